/**
 * Recent log lines of modelswap itself and of every model server, kept in
 * byte-bounded ring buffers and fanned out to live subscribers. Printing to
 * stdout follows `logToStdout`; every line is formatted by `log-format.ts`
 * (`logFormat`, `logTimeFormat`, the `[model]` tag of upstream output).
 */
import type { Config } from "../config/types.ts";
import type { LogFilter, LogHub, LogLine, LogSource } from "./types.ts";
import { writeSync } from "node:fs";
import { stdoutBacklogged, writeStdout } from "../lib/stdio.ts";
import { formatRecord, type LogRecord } from "./log-format.ts";
import { levelEnabled } from "./proxy-log.ts";

/** About 100 KB of text per buffer, as llama-swap's `LogBufferSize`. */
export const LOG_BUFFER_BYTES = 100 * 1024;

interface Numbered {
  /** Global append order, so merged histories keep the order lines arrived in. */
  n: number;
  line: LogLine;
}

/** FIFO of lines bounded by the sum of their text lengths (UTF-16 code units). */
class LineBuffer {
  /** Entries from `#head` on are kept; `#bytes` is the sum of their text lengths. */
  #items: Numbered[] = [];
  #head = 0;
  #bytes = 0;
  readonly #max: number;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  push(item: Numbered): void {
    this.#items.push(item);
    this.#bytes += item.line.text.length + 1;
    while (this.#bytes > this.#max && this.#head < this.#items.length - 1) {
      this.#bytes -= this.#items[this.#head]!.line.text.length + 1;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  items(): Numbered[] {
    return this.#items.slice(this.#head);
  }
}

/** Whether `line` belongs to the stream `filter` names. */
export function matches(filter: LogFilter, line: LogLine): boolean {
  switch (filter.kind) {
    case "all":
      return true;
    case "proxy":
      return line.source === "proxy";
    case "upstream":
      return line.source === "upstream";
    case "model":
      return line.source === "upstream" && line.model === filter.model;
    default: {
      const never: never = filter;
      throw new TypeError(`Cannot match log line as the filter is unknown: ${JSON.stringify(never)}`);
    }
  }
}

function printsToStdout(config: Config, source: LogSource): boolean {
  switch (config.logToStdout) {
    case "both":
      return true;
    case "none":
      return false;
    case "proxy":
    case "upstream":
      return config.logToStdout === source;
    default: {
      const never: never = config.logToStdout;
      throw new TypeError(`Cannot route logs to stdout as 'logToStdout' is unknown: ${String(never)}`);
    }
  }
}

/**
 * Lines waiting for the next write to stdout: a line waits at most `STDOUT_BATCH_MS` for
 * others to share its write, and a batch of `STDOUT_BATCH_LINES` goes at once.
 */
let pendingStdout: string[] = [];
let stdoutTimer: ReturnType<typeof setTimeout> | null = null;
const STDOUT_BATCH_MS = 5;
const STDOUT_BATCH_LINES = 256;

/** The queued lines as one text (null when none), the queue emptied and its timer stopped. */
function takeStdout(): string | null {
  if (stdoutTimer !== null) clearTimeout(stdoutTimer);
  stdoutTimer = null;
  if (pendingStdout.length === 0) return null;
  const text = `${pendingStdout.join("\n")}\n`;
  pendingStdout = [];
  return text;
}

/** Hands the queued lines to stdout now (before an exit: `drainStdio` then waits for them to go out). */
export function flushStdout(): void {
  const text = takeStdout();
  if (text !== null) writeStdout(text);
}

// Whatever is still queued when the process exits goes out synchronously, unless the sink still holds
// earlier lines for a slow reader: a direct write would overtake them, so the rest goes behind them
// (and, as they are, is lost if the process ends before the reader takes it).
process.on("exit", () => {
  const text = takeStdout();
  if (text === null) return;
  if (stdoutBacklogged()) {
    writeStdout(text);
    return;
  }
  try {
    writeSync(1, text);
  } catch {
    // stdout is gone, or its pipe is full (EAGAIN): nothing more can be done at exit.
  }
});

/**
 * Queues a line for stdout. Why batched: one write per request line was ~5 % of the main thread at
 * 64 connections, one write per event-loop turn still ~6.5 % (a turn there often ends one request),
 * one per 5 ms ~3.5 %.
 */
const defaultStdout = (line: string): void => {
  const n = pendingStdout.push(line);
  if (n >= STDOUT_BATCH_LINES) flushStdout();
  else if (n === 1) {
    stdoutTimer = setTimeout(flushStdout, STDOUT_BATCH_MS);
    stdoutTimer.unref?.();
  }
};

export interface LogHubOptions {
  /** Text kept per buffer (proxy, and each model), default 100 KB. */
  bufferBytes?: number;
  /** Wall clock in ms, for tests. */
  now?: () => number;
}

/**
 * Creates the hub every log line of the main thread goes through.
 *
 * @example
 * ```ts
 * const logs = createLogHub(config);
 * logs.append("upstream", "llama", "server listening");
 * logs.history({ kind: "model", model: "llama" });
 * ```
 */
export function createLogHub(config: Config, stdout: (line: string) => void = defaultStdout, options: LogHubOptions = {}): LogHub {
  const bufferBytes = options.bufferBytes ?? LOG_BUFFER_BYTES;
  const now = options.now ?? Date.now;
  const proxy = new LineBuffer(bufferBytes);
  /** One buffer per model id, created on its first line. */
  const upstream = new Map<string, LineBuffer>();
  const listeners = new Set<{ filter: LogFilter; listener: (line: LogLine) => void }>();
  let n = 0;

  function buffersFor(filter: LogFilter): LineBuffer[] {
    switch (filter.kind) {
      case "all":
        return [proxy, ...upstream.values()];
      case "proxy":
        return [proxy];
      case "upstream":
        return [...upstream.values()];
      case "model": {
        const b = upstream.get(filter.model);
        return b ? [b] : [];
      }
      default: {
        const never: never = filter;
        throw new TypeError(`Cannot read log history as the filter is unknown: ${JSON.stringify(never)}`);
      }
    }
  }

  const style = { format: config.logFormat ?? "text", timeFormat: config.logTimeFormat };

  const hub: LogHub = {
    append(source, model, text) {
      hub.write({ source, level: null, model: source === "proxy" ? null : model, event: null, msg: text });
    },
    write(record) {
      // Proxy lines below `logLevel` are dropped here too (callers that build costly text check first).
      if (record.source === "proxy" && record.level !== null && !levelEnabled(config.logLevel, record.level)) return;
      // The record is the caller's own new object: it gets its time in place (no copy per request line).
      const time = (record.time ??= now());
      const source = record.source;
      const line: LogLine = { source, model: source === "proxy" ? null : record.model, time, text: formatRecord(record as LogRecord, style) };
      const item = { n: ++n, line };
      if (source === "proxy") proxy.push(item);
      else {
        const key = record.model ?? "";
        let b = upstream.get(key);
        if (!b) upstream.set(key, (b = new LineBuffer(bufferBytes)));
        b.push(item);
      }
      if (printsToStdout(config, source)) {
        try {
          stdout(line.text);
        } catch {
          // A broken stdout must not stop logging to the buffers and streams.
        }
      }
      // Checked first: iterating even an empty Set makes an iterator object, and this runs per request line.
      if (listeners.size > 0) {
        for (const s of listeners) {
          if (!matches(s.filter, line)) continue;
          try {
            s.listener(line);
          } catch {
            // Subscribers must not throw into the logger; their stream handles its own failures.
          }
        }
      }
    },
    history(filter) {
      const parts = buffersFor(filter);
      if (parts.length === 1) return parts[0]!.items().map((i) => i.line);
      return parts
        .flatMap((b) => b.items())
        .sort((a, b) => a.n - b.n)
        .map((i) => i.line);
    },
    subscribe(filter, listener) {
      const entry = { filter, listener };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
  return hub;
}
