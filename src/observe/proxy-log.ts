/**
 * modelswap's own log lines on the main thread, filtered by `logLevel` and
 * written into the LogHub as structured records (which formats them per
 * `logFormat`/`logTimeFormat` and prints to stdout per `logToStdout`).
 */
import type { Config, LogLevel } from "../config/types.ts";
import type { LogHub } from "./types.ts";
import type { LogFields } from "../scheduler/protocol.ts";
import type { LogRecord } from "./log-format.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** What a structured line adds to its level and message. */
export interface LogExtra {
  model?: string;
  event?: string;
  /** A function for a line written often (see `LogRecord.fields`). */
  fields?: LogFields | (() => LogFields);
}

/** A logger bound to one config and hub. */
export type ProxyLogger = (level: LogLevel, message: string, extra?: LogExtra) => void;

/** Whether a line at `level` passes the configured `logLevel`. */
export function levelEnabled(configured: LogLevel, level: LogLevel): boolean {
  return RANK[level] >= RANK[configured];
}

/** The line as llama-swap's proxy logger writes it, before the timestamp. */
export function formatProxyLine(level: LogLevel, message: string): string {
  return PREFIX[level] + message;
}

/** `[LEVEL] ` per level, built once (why: one line per proxied request). */
const PREFIX: Record<LogLevel, string> = { debug: "[DEBUG] ", info: "[INFO] ", warn: "[WARN] ", error: "[ERROR] " };

/**
 * Creates a logger writing into `logs`; useful where the module-level one is not wanted (tests).
 *
 * @example
 * ```ts
 * const log = createProxyLogger(config, logs);
 * log("info", "Loaded config: 3 models");
 * ```
 */
export function createProxyLogger(config: Pick<Config, "logLevel">, logs: LogHub): ProxyLogger {
  return (level, message, extra) => {
    if (!levelEnabled(config.logLevel, level)) return;
    const r: Omit<LogRecord, "time"> = { source: "proxy", level, model: extra?.model ?? null, event: extra?.event ?? null, msg: message };
    if (extra?.fields !== undefined) r.fields = extra.fields;
    logs.write(r);
  };
}
