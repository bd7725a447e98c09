/**
 * What the core knows about one model between events: its state, its
 * in-flight count, and the restart-backoff bookkeeping.
 */
import type { ModelState, Rejection } from "./protocol.ts";
import { rejection } from "./protocol.ts";
import { BACKOFF } from "./core-types.ts";
import { backoffMs } from "./policies/index.ts";

/** One model's scheduling record; mutated only by the core. */
export interface ModelEntry {
  state: ModelState;
  since: number;
  inFlight: number;
  /** When the model last became idle (ready with nothing in flight): TTL origin. */
  idleSince: number;
  /** When `start` was issued: health deadline origin. */
  startedAt: number;
  readyAt: number | null;
  /** Length of the last ready period, for the healthy-period reset. */
  lastHealthyMs: number;
  /** Consecutive failures (failed start, health deadline missed, crash, unkillable stop). */
  failures: number;
  /** No start before this clock time (the restart delay). */
  retryAt: number;
  /** The last start failure, health timeout, crash or unkillable stop, with the server's last lines; null until one happens (and after a healthy start). Shown by status and in the fast-fail 503. */
  lastError: string | null;
  /** `restart: always` after a crash while loaded: start again at `retryAt` with no request. */
  restartPending: boolean;
  /** State entered when the pending stop completes. */
  afterStop: "stopped" | "failed" | "shutdown";
  /** Removed by a reload: dropped once stopped. */
  removed: boolean;
  reported: { inFlight: number; queued: number; reusable: boolean };
  /** `CoreState.uses` at the last grant or release; -Infinity when never used (LRU order). */
  lastUsed: number;
  /** The last granted request's keep_alive in ms (negative: never unload), or null for the model's ttl. */
  keepAliveMs: number | null;
  /** Last evidence of progress while busy: a grant to an idle model, or an `activity` report (busy watchdog). */
  lastActivity: number;
  /** This start already evicted one more model after an out-of-memory failure (OOM retry happens once). */
  oomRetried: boolean;
}

/** Whether a model in `state` has a process: starting, ready or stopping. */
export function hasProcess(state: ModelState): boolean {
  return state === "starting" || state === "ready" || state === "stopping";
}

/** A record for a model that has never run. */
export function newEntry(now: number): ModelEntry {
  return {
    state: "stopped", since: now, inFlight: 0, idleSince: now, startedAt: now, readyAt: null,
    lastHealthyMs: 0, failures: 0, retryAt: 0, lastError: null, restartPending: false, afterStop: "stopped",
    removed: false, reported: { inFlight: 0, queued: 0, reusable: false }, lastUsed: Number.NEGATIVE_INFINITY, keepAliveMs: null,
    lastActivity: now, oomRetried: false,
  };
}

/** A healthy period of 60 s forgets earlier failures. */
export function resetIfHealthy(m: ModelEntry): void {
  if (m.lastHealthyMs >= BACKOFF.healthyResetMs) m.failures = 0;
}

/** Forgets every failure (unload, changed config). */
export function resetFailures(m: ModelEntry): void {
  m.failures = 0;
  m.retryAt = 0;
  m.lastError = null;
  m.restartPending = false;
}

/** Counts one more consecutive failure and sets when the next start is allowed (1, 2, 4, 8, 16, then 30 s). */
export function countFailure(m: ModelEntry, now: number, random: () => number, message: string): void {
  resetIfHealthy(m);
  m.lastHealthyMs = 0;
  m.failures++;
  m.retryAt = now + backoffMs(m.failures, random);
  m.lastError = message;
}

/** Closes the current ready period (for the healthy-period reset). */
export function leaveReady(m: ModelEntry, now: number): void {
  if (m.readyAt !== null) m.lastHealthyMs = now - m.readyAt;
  m.readyAt = null;
}

/**
 * What a request for a model that is not running meets: `start` (no delay
 * pending), `wait` (in the restart delay: queue until `retryAt`) or a 503
 * `backoff` rejection (after `BACKOFF.fastFailAfter` failures, until the
 * delay is over: never permanent, the first request after it tries again).
 */
export function restartGate(model: string, m: ModelEntry, now: number): "start" | "wait" | Rejection {
  const remaining = m.retryAt - now;
  if (m.failures === 0 || remaining <= 0) return "start";
  if (m.failures < BACKOFF.fastFailAfter) return "wait";
  const secs = Math.ceil(remaining / 1000);
  // The failure's own "Cannot start model 'x': " prefix would repeat this message's.
  const last = lastLines((m.lastError ?? "").replace(/^Cannot start model '[^']*': /, ""), 5);
  return rejection(
    "backoff",
    `Cannot start model '${model}': it failed ${m.failures} times in a row; next try in ${secs} s${last === "" ? "" : `; last error:\n${last}`}`,
    secs,
  );
}

/** The last `n` lines of `text`. */
function lastLines(text: string, n: number): string {
  return text.split("\n").slice(-n).join("\n");
}
