/**
 * The core's timers without a timer: the health deadline, TTL (or the last
 * request's keep_alive), shutdown grace, the busy watchdog and maxSwapWait
 * are deadlines computed from state; `tick(now)` acts on the due ones and
 * `armTimer` tells the runner when to tick next.
 */
import { rejection } from "../protocol.ts";
import type { ModelEntry } from "../model-entry.ts";
import { type CoreState, emit, recordFailure, reject, stop, unloadGrace } from "./state.ts";
import { failSwap } from "./swaps.ts";

/** Stops every model whose deadline has passed; rejects requests that waited maxSwapWait for a busy model. */
export function onTick(s: CoreState): void {
  for (const [id, m] of s.models) {
    const due = deadlineOf(s, id, m);
    if (due === null || due > s.now) continue;
    if (m.state === "starting") {
      const r = rejection("health_timeout", `Cannot start model '${id}': it was not healthy within ${s.config.healthCheckTimeout} s`);
      recordFailure(s, id, r.message);
      failSwap(s, id, r);
      stop(s, id, unloadGrace(s, id), "health_timeout", s.shutdown !== null ? "shutdown" : "failed");
    } else if (s.shutdown !== null) {
      stop(s, id, unloadGrace(s, id), "shutdown", "shutdown");
    } else if (m.inFlight > 0) {
      // Busy with no byte to any client for busyTimeout: a hung server, handled like a crash while ready
      // (the restart policy: one failure, the restart delay, `restart: always` starts it again unasked).
      // Its clients see the upstream go.
      const busy = s.config.models[id]?.watchdog.busyTimeout ?? 0;
      stop(s, id, unloadGrace(s, id), "watchdog", "failed");
      m.restartPending = s.config.models[id]?.restart === "always";
      recordFailure(s, id, `Model '${id}' was stopped by the watchdog: no byte reached any client for ${busy} s with ${m.inFlight} request(s) in flight`);
    } else {
      stop(s, id, unloadGrace(s, id), "ttl", "stopped");
    }
  }
  expireSwapWaits(s);
}

/** Queued requests that waited `maxSwapWait` for a busy model: 503 + Retry-After; the drain that follows drops the reservation. */
function expireSwapWaits(s: CoreState): void {
  const wait = s.config.maxSwapWait * 1000;
  if (wait <= 0) return;
  const expired = s.queue.removeWhere((w) => w.busySince !== null && w.busySince + wait <= s.now);
  for (const w of expired) {
    const msg = `Cannot start model ${w.model} as a model it must evict stayed busy for maxSwapWait (${s.config.maxSwapWait} s): retry later`;
    reject(s, w, rejection("swap_timeout", msg, Math.max(1, Math.ceil(s.config.maxSwapWait))));
  }
}

/** Emits `armTimer` for the earliest deadline when it differs from the one last armed. */
export function armTimer(s: CoreState): void {
  let at: number | null = null;
  for (const [id, m] of s.models) {
    const d = deadlineOf(s, id, m);
    if (d !== null && (at === null || d < at)) at = d;
  }
  const wait = s.config.maxSwapWait * 1000;
  if (wait > 0) {
    for (const w of s.queue.items) if (w.busySince !== null && (at === null || w.busySince + wait < at)) at = w.busySince + wait;
  }
  if (at !== s.timerAt) {
    s.timerAt = at;
    emit(s, { type: "armTimer", at });
  }
}

/** When the model next needs attention: health deadline, busy watchdog, TTL, shutdown grace, or the end of a restart delay someone waits for. */
function deadlineOf(s: CoreState, id: string, m: ModelEntry): number | null {
  if (m.state === "starting") return m.startedAt + s.config.healthCheckTimeout * 1000;
  if (m.state === "failed" || m.state === "stopped") {
    // Waiters (or `restart: always`) start it when the delay is over; `drain` does that after this tick.
    const wanted = m.restartPending || s.queue.count(id) > 0 || s.active.has(id);
    return wanted && m.retryAt > s.now && s.shutdown === null ? m.retryAt : null;
  }
  if (m.state !== "ready") return null;
  if (s.shutdown !== null) return s.shutdown.deadline;
  if (m.inFlight > 0) {
    const busy = s.config.models[id]?.watchdog.busyTimeout ?? 0;
    return busy > 0 ? m.lastActivity + busy * 1000 : null;
  }
  // Never while a queued swap waits on it or a swap to it is in progress.
  if (s.reserved.has(id) || s.active.has(id)) return null;
  const ttlMs = m.keepAliveMs ?? (s.config.models[id]?.ttl ?? 0) * 1000;
  // keep_alive 0 unloads once idle; ttl 0 (or a negative keep_alive) never does.
  if (m.keepAliveMs === null ? ttlMs <= 0 : ttlMs < 0) return null;
  return m.idleSince + ttlMs;
}
