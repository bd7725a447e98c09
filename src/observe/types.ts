/**
 * The shapes of the two hubs: log lines (ring buffers per source, live
 * subscribers) and sequenced events (what `/api/events` and the test hooks
 * replay). Both are fed by the scheduler's event feed and by the proxy log.
 */
import type { SchedulerEvent } from "../scheduler/protocol.ts";
import type { ActivityEntry } from "../metrics/index.ts";
import type { LogRecord } from "./log-format.ts";

/** Where a log line came from: modelswap itself, or a model's stdout/stderr. */
export type LogSource = "proxy" | "upstream";

export interface LogLine {
  source: LogSource;
  /** Model id for upstream lines; null for proxy lines. */
  model: string | null;
  /** Wall time in ms. */
  time: number;
  text: string;
}

/** Ring buffers of recent log lines plus live subscribers. */
export interface LogHub {
  /** A plain line: modelswap's own (no level), or a model server's output (`model` set). */
  append(source: LogSource, model: string | null, text: string): void;
  /** A structured line (level, model, event, fields), formatted per `logFormat`; `time` defaults to now (set on the record itself: pass a new object). */
  write(record: Omit<LogRecord, "time"> & { time?: number }): void;
  /** Buffered lines matching `filter`, oldest first. */
  history(filter: LogFilter): LogLine[];
  /** Live lines matching `filter`; returns the unsubscribe function. */
  subscribe(filter: LogFilter, listener: (line: LogLine) => void): () => void;
}

/** All lines, proxy lines, all upstream lines, or one model's lines. */
export type LogFilter = { kind: "all" } | { kind: "proxy" } | { kind: "upstream" } | { kind: "model"; model: string };

/** An event as published to HTTP clients, numbered on the main thread. */
export interface SequencedEvent {
  seq: number;
  /** Wall time in ms. */
  time: number;
  event: SchedulerEvent | { kind: "proxyLog"; line: string } | { kind: "profile"; active: string | null } | { kind: "activity"; entry: ActivityEntry };
}

/** Sequenced fan-out of scheduler events; slow consumers are dropped, never awaited. */
export interface EventHub {
  publish(event: SequencedEvent["event"]): SequencedEvent;
  /** Buffered events with seq > `since`, oldest first. */
  since(since: number): SequencedEvent[];
  subscribe(listener: (e: SequencedEvent) => void): () => void;
  readonly lastSeq: number;
}
