/**
 * Requests coming and going: admission (step 1 of the decision tree in
 * `core.ts`: unknown model, shutting down, concurrency limit), cancel and
 * release with exact in-flight counting, and the per-model counts reported
 * after every event.
 */
import { rejection } from "../protocol.ts";
import type { Waiter } from "../queue.ts";
import { type CoreState, emit, limit, priority, reject, stop, unloadGrace, waiting } from "./state.ts";
import { place } from "./swaps.ts";
import { choose } from "./choice.ts";
import { collides } from "../swap.ts";
import type { Select } from "../core-types.ts";

/** A new request: pick its target (replica, selector), then reject it, place it (grant, join, start a swap) or queue it. */
export function onRequest(s: CoreState, w: Waiter, select?: Select): void {
  const picked = choose(s, w.model, select);
  if (picked !== null && "peer" in picked) return emit(s, { type: "route", id: w.id, target: picked.peer });
  if (picked !== null) w.model = picked.model;
  const m = s.models.get(w.model);
  if (m === undefined || m.removed) return reject(s, w, rejection("model_not_found", `Cannot find model: ${w.model}`));
  if (s.shutdown !== null) return reject(s, w, rejection("shutting_down", "Cannot serve the request as modelswap is shutting down"));
  const max = limit(s, w.model);
  if (m.inFlight + waiting(s, w.model) >= max) {
    return reject(s, w, rejection("too_many_requests", `Cannot queue the request as the concurrency limit is reached: ${max} for ${w.model}`, 1));
  }
  if (!place(s, w, s.reserved)) {
    s.queue.push(w, (id) => priority(s, id));
    emit(s, { type: "request", id: w.id, model: w.model, action: "queued" });
  }
}

/** The client left: a grant is released, a waiter leaves the queue or its swap; unknown ids are ignored. */
export function onCancel(s: CoreState, id: number): void {
  if (s.granted.has(id)) return onRelease(s, id, "cancelled");
  const w = s.queue.remove(id);
  if (w !== undefined) {
    emit(s, { type: "request", id, model: w.model, action: "cancelled" });
    return;
  }
  for (const [target, swap] of s.active) {
    const i = swap.waiters.findIndex((x) => x.id === id);
    if (i < 0) continue;
    swap.waiters.splice(i, 1);
    emit(s, { type: "request", id, model: target, action: "cancelled" });
    // Nobody left and nothing started yet: do not load for a caller that is gone.
    if (swap.waiters.length === 0 && !swap.started) s.active.delete(target);
    return;
  }
}

/** A granted request ended; unknown and repeated ids are ignored so `inFlight` never strands. */
export function onRelease(s: CoreState, id: number, action: "released" | "cancelled"): void {
  const model = s.granted.get(id);
  if (model === undefined) return;
  s.granted.delete(id);
  emit(s, { type: "request", id, model, action });
  const m = s.models.get(model);
  if (m === undefined) return;
  m.inFlight = Math.max(0, m.inFlight - 1);
  m.lastUsed = ++s.uses;
  if (m.inFlight === 0) {
    m.idleSince = s.now;
    if (s.shutdown !== null && (m.state === "ready" || m.state === "starting")) stop(s, model, unloadGrace(s, model), "shutdown", "shutdown");
  }
}

/** Bytes reached clients from these models: the busy watchdog's clock restarts. Unknown ids are ignored. */
export function onActivity(s: CoreState, models: readonly string[]): void {
  for (const id of models) {
    const m = s.models.get(id);
    if (m !== undefined) m.lastActivity = s.now;
  }
}

/**
 * Emits `inflight` for every model whose in-flight or queued count changed
 * since last reported, and `reusable` for every model whose answer to "would
 * a new request be granted at once" changed.
 */
export function reportCounts(s: CoreState): void {
  for (const [id, m] of s.models) {
    const queued = waiting(s, id);
    if (m.reported.inFlight !== m.inFlight || m.reported.queued !== queued) {
      m.reported.inFlight = m.inFlight;
      m.reported.queued = queued;
      emit(s, { type: "inflight", model: id, inFlight: m.inFlight, queued });
    }
    const ok = grantableNow(s, id, queued);
    if (m.reported.reusable !== ok) {
      m.reported.reusable = ok;
      emit(s, { type: "reusable", model: id, ok });
    }
  }
}

/**
 * Step 4 of the decision tree for a model with nobody waiting: ready, not
 * shutting down, no swap for it or evicting it, not reserved by a queued swap
 * (whose eviction would starve if newcomers kept it busy). Never for a model
 * with replicas: which replica serves is chosen per request.
 */
function grantableNow(s: CoreState, id: string, queued: number): boolean {
  const m = s.models.get(id)!;
  if (m.removed || m.state !== "ready" || s.shutdown !== null || queued > 0) return false;
  if ((s.config.models[id]?.replicas.length ?? 0) > 0) return false;
  return !s.active.has(id) && !s.reserved.has(id) && !collides(id, [], s.active);
}
