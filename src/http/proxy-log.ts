/**
 * modelswap's own logger for the main thread: `proxyLog("info", "...")`
 * anywhere, filtered by `logLevel` and written as `[LEVEL] message` into the
 * LogHub (which adds the `logTimeFormat` timestamp and prints to stdout per
 * `logToStdout`). Until `installProxyLog` runs, lines go to stderr.
 */
import type { Config, LogLevel } from "../config/types.ts";
import type { LogHub } from "./deps.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger bound to one config and hub. */
export type ProxyLogger = (level: LogLevel, message: string) => void;

/** Whether a line at `level` passes the configured `logLevel`. */
export function levelEnabled(configured: LogLevel, level: LogLevel): boolean {
  return RANK[level] >= RANK[configured];
}

/** The line as llama-swap's proxy logger writes it, before the timestamp. */
export function formatProxyLine(level: LogLevel, message: string): string {
  return `[${level.toUpperCase()}] ${message}`;
}

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
  return (level, message) => {
    if (levelEnabled(config.logLevel, level)) logs.append("proxy", null, formatProxyLine(level, message));
  };
}

const beforeInstall: ProxyLogger = (level, message) => {
  if (levelEnabled("info", level)) process.stderr.write(`${formatProxyLine(level, message)}\n`);
};

let current: ProxyLogger = beforeInstall;

/**
 * Routes every later `proxyLog` call to `logs` with `config`'s level; returns the function that undoes it.
 *
 * @example
 * ```ts
 * const uninstall = installProxyLog(config, logs);
 * ```
 */
export function installProxyLog(config: Pick<Config, "logLevel">, logs: LogHub): () => void {
  const logger = createProxyLogger(config, logs);
  current = logger;
  return () => {
    if (current === logger) current = beforeInstall;
  };
}

/**
 * Logs one proxy line at `level`.
 *
 * @example
 * ```ts
 * proxyLog("warn", `Cannot reach upstream: ${url}`);
 * ```
 */
export function proxyLog(level: LogLevel, message: string): void {
  current(level, message);
}
