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
  failures: number;
  retryAt: number;
  /** The last start failure, health timeout or crash, with the server's last lines; null until one happens. */
  lastError: string | null;
  /** State entered when the pending stop completes. */
  afterStop: "stopped" | "failed" | "shutdown";
  /** Removed by a reload: dropped once stopped. */
  removed: boolean;
  reported: { inFlight: number; queued: number };
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
    lastHealthyMs: 0, failures: 0, retryAt: 0, lastError: null, afterStop: "stopped", removed: false,
    reported: { inFlight: 0, queued: 0 }, lastUsed: Number.NEGATIVE_INFINITY, keepAliveMs: null,
    lastActivity: now, oomRetried: false,
  };
}

/** A healthy period of 60 s forgets earlier failures. */
export function resetIfHealthy(m: ModelEntry): void {
  if (m.lastHealthyMs >= BACKOFF.healthyResetMs) m.failures = 0;
}

/** Counts one more consecutive failure and sets when the next start is allowed. */
export function countFailure(m: ModelEntry, now: number, random: () => number): void {
  resetIfHealthy(m);
  m.lastHealthyMs = 0;
  m.failures++;
  m.retryAt = now + backoffMs(Math.min(m.failures, BACKOFF.giveUpAfter + 1), random);
  if (m.failures >= BACKOFF.giveUpAfter) m.retryAt = now + BACKOFF.maxMs;
}

/** Closes the current ready period (for the healthy-period reset). */
export function leaveReady(m: ModelEntry, now: number): void {
  if (m.readyAt !== null) m.lastHealthyMs = now - m.readyAt;
  m.readyAt = null;
}

/** The `backoff` rejection for a request now, or null when a start is allowed. */
export function backoffRejection(model: string, m: ModelEntry, now: number): Rejection | null {
  const remaining = m.retryAt - now;
  if (m.failures >= BACKOFF.giveUpAfter) {
    const secs = remaining > 0 ? Math.ceil(remaining / 1000) : BACKOFF.maxMs / 1000;
    return rejection("backoff", `Cannot start model '${model}': it failed ${m.failures} times in a row (unload it or reload the config to retry)`, secs);
  }
  if (remaining > 0) {
    const secs = Math.ceil(remaining / 1000);
    return rejection("backoff", `Cannot start model '${model}' yet: it is in restart backoff for ${secs} s more`, secs);
  }
  return null;
}
