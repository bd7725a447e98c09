/**
 * The core's timers without a timer: the health deadline, TTL and shutdown
 * grace are deadlines computed from state; `tick(now)` acts on the due ones
 * and `armTimer` tells the runner when to tick next.
 */
import { rejection } from "../protocol.ts";
import { countFailure, type ModelEntry } from "../model-entry.ts";
import { type CoreState, emit, stop, unloadGrace } from "./state.ts";
import { failSwap } from "./swaps.ts";

/** Stops every model whose deadline has passed: a start too slow, a TTL, the shutdown grace. */
export function onTick(s: CoreState): void {
  for (const [id, m] of s.models) {
    const due = deadlineOf(s, id, m);
    if (due === null || due > s.now) continue;
    if (m.state === "starting") {
      const r = rejection("health_timeout", `Cannot start model as it was not healthy within ${s.config.healthCheckTimeout} s: ${id}`);
      countFailure(m, s.now, s.random);
      m.lastError = r.message;
      failSwap(s, id, r);
      stop(s, id, unloadGrace(s, id), "health_timeout", s.shutdown !== null ? "shutdown" : "failed");
    } else if (s.shutdown !== null) {
      stop(s, id, unloadGrace(s, id), "shutdown", "shutdown");
    } else {
      stop(s, id, unloadGrace(s, id), "ttl", "stopped");
    }
  }
}

/** Emits `armTimer` for the earliest deadline when it differs from the one last armed. */
export function armTimer(s: CoreState): void {
  let at: number | null = null;
  for (const [id, m] of s.models) {
    const d = deadlineOf(s, id, m);
    if (d !== null && (at === null || d < at)) at = d;
  }
  if (at !== s.timerAt) {
    s.timerAt = at;
    emit(s, { type: "armTimer", at });
  }
}

/** When the model next needs attention: health deadline, TTL or shutdown grace. */
function deadlineOf(s: CoreState, id: string, m: ModelEntry): number | null {
  if (m.state === "starting") return m.startedAt + s.config.healthCheckTimeout * 1000;
  if (m.state !== "ready") return null;
  if (s.shutdown !== null) return s.shutdown.deadline;
  const ttl = s.config.models[id]?.ttl ?? 0;
  // Never during a request, nor while a queued swap waits on it or a swap to it is in progress.
  if (ttl <= 0 || m.inFlight > 0 || s.reserved.has(id) || s.active.has(id)) return null;
  return m.idleSince + ttl * 1000;
}
