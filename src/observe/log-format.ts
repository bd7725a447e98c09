/**
 * The one place a log line becomes text: modelswap's own lines (requests,
 * lifecycle events of every model) and the output lines of model servers, in
 * llama-swap's text shape or as one JSON object a line (`logFormat: json`).
 * Every subsystem hands a `LogRecord` here; none formats lines itself.
 */
import type { LogFormat, LogLevel } from "../config/types.ts";
import { formatLogTime } from "./log-time.ts";
import type { LogFields } from "../scheduler/protocol.ts";

export type { LifecycleEvent, LogFields } from "../scheduler/protocol.ts";

/** One line to write, before formatting. */
export interface LogRecord {
  /** Wall time in ms. */
  time: number;
  /** `proxy`: modelswap's own; `upstream`: a model server's output (no level). */
  source: "proxy" | "upstream";
  level: LogLevel | null;
  /** The model the line is about, or null. */
  model: string | null;
  /** What happened (`request`, a lifecycle event, ...), or null for plain lines. */
  event: string | null;
  msg: string;
  /** JSON fields; a function for a line written often (the request line), called only when the line is JSON. */
  fields?: LogFields | (() => LogFields);
}

/** How lines are written, from the config. */
export interface LogStyle {
  format: LogFormat;
  /** `logTimeFormat`: timestamps proxy lines in text; "" for none. */
  timeFormat: string;
}

/** `[LEVEL] ` per level, built once (why: one line per proxied request). */
const PREFIX: Record<LogLevel, string> = { debug: "[DEBUG] ", info: "[INFO] ", warn: "[WARN] ", error: "[ERROR] " };

/**
 * The text of one line.
 *
 * Text: proxy lines are `<stamp> [LEVEL] [model] msg` (llama-swap's shape,
 * the model tag only when there is one); upstream lines are `[model] msg`,
 * so lines of several servers printed together can be told apart.
 * JSON: `{"time":"<ISO 8601>","level","source","model","event","msg",...fields}`.
 *
 * @example
 * ```ts
 * formatRecord({ time: 0, source: "proxy", level: "info", model: "llama", event: "ready", msg: "ready after 1.20s" },
 *   { format: "text", timeFormat: "" }); // "[INFO] [llama] ready after 1.20s"
 * ```
 */
export function formatRecord(r: LogRecord, style: LogStyle): string {
  switch (style.format) {
    case "text":
      return textLine(r, style.timeFormat);
    case "json":
      return jsonLine(r);
    default: {
      const never: never = style.format;
      throw new TypeError(`Cannot format log line as 'logFormat' is unknown: ${String(never)}`);
    }
  }
}

function textLine(r: LogRecord, timeFormat: string): string {
  const tag = r.model === null ? "" : `[${r.model}] `;
  if (r.source === "upstream") return flat(tag + r.msg);
  const stamp = formatLogTime(timeFormat, r.time);
  const level = r.level === null ? "" : PREFIX[r.level];
  return flat(`${stamp === "" ? "" : `${stamp} `}${level}${tag}${r.msg}`);
}

/**
 * `s` as one flat string of its own. Why: a line built by concatenation is a
 * rope, one cell per part (a request line has ~8), and lines stay in the log
 * buffers and the event ring after a burst (measured in a heap snapshot:
 * ~13,000 rope cells kept after a 64-connection load, spread over heap blocks
 * that could not be given back). A two-element join copies into one new
 * string; one element, a template, `concat` or `slice(0)` return the rope
 * itself (Bun 1.4.5).
 */
function flat(s: string): string {
  return [s, ""].join("");
}

function jsonLine(r: LogRecord): string {
  const o: Record<string, unknown> = { time: new Date(r.time).toISOString(), level: r.level, source: r.source };
  if (r.model !== null) o.model = r.model;
  if (r.event !== null) o.event = r.event;
  o.msg = r.msg;
  const fields = typeof r.fields === "function" ? r.fields() : r.fields;
  if (fields) for (const [k, v] of Object.entries(fields)) if (!(k in o)) o[k] = v;
  return JSON.stringify(o);
}
