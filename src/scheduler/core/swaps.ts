/**
 * Placing a request (grant, join a swap, reject, queue, or start a swap),
 * moving swaps on (stop what must go, then start the target), and draining
 * the queue after every event. Steps 2-6 of the decision tree in `core.ts`.
 */
import { rejection, type Rejection } from "../protocol.ts";
import { backoffRejection, hasProcess } from "../model-entry.ts";
import { evictionFor, evictionOrder, type Usage } from "../policies/index.ts";
import { collides, type Swap } from "../swap.ts";
import type { Waiter } from "../queue.ts";
import { type CoreState, emit, grant, progress, reject, setState, stop } from "./state.ts";

/**
 * Tries to grant, join, reject or start a swap for `w`; false means "queue it".
 * `reserved` holds models that earlier queued swaps wait on; busy models this
 * request would evict are added to it, so the swap is not starved.
 */
export function place(s: CoreState, w: Waiter, reserved: Set<string>): boolean {
  const m = s.models.get(w.model)!;
  const swap = s.active.get(w.model);
  if (swap !== undefined) {
    swap.waiters.push(w);
    progress(s, w, swap.started ? "starting" : "stopping_others", swap.started ? `Starting ${w.model}` : `Waiting for other models to stop`);
    return true;
  }
  if (m.state === "failed" || (m.failures > 0 && m.state === "stopped" && s.now < m.retryAt)) {
    const r = backoffRejection(w.model, m, s.now);
    if (r !== null) {
      reject(s, w, r);
      return true;
    }
  }
  if (w.noStart && m.state !== "ready") {
    reject(s, w, rejection("not_running", `Cannot serve the request as the model is not running: ${w.model}`));
    return true;
  }
  const eviction = evictionFor(w.model, runningSet(s, w.model), s.config, (id) => usageOf(s, id));
  if (!Array.isArray(eviction)) {
    reject(s, w, rejection("cannot_fit", eviction.cannotFit));
    return true;
  }
  const blocked = collides(w.model, eviction, s.active);
  if (m.state === "ready" && eviction.length === 0 && !blocked && !reserved.has(w.model)) {
    grant(s, w);
    return true;
  }
  if (blocked || reserved.has(w.model)) return false;
  const busy = eviction.filter((e) => s.models.get(e)?.state === "ready" && s.models.get(e)!.inFlight > 0);
  if (busy.length > 0) {
    for (const b of busy) reserved.add(b);
    // maxSwapWait counts from here: one stuck request must not hold a second model forever.
    w.busySince ??= s.now;
    return false;
  }
  startSwap(s, w, eviction);
  return true;
}

/** Re-runs the decision tree over the queue in order; blocked items keep their place. */
export function drain(s: CoreState): void {
  const reserved = new Set<string>();
  const pending = s.queue.items;
  s.queue.items = [];
  for (const w of pending) {
    const m = s.models.get(w.model);
    if (m === undefined || m.removed) {
      reject(s, w, rejection("model_not_found", `Cannot find model: ${w.model}`));
      continue;
    }
    if (!place(s, w, reserved)) s.queue.items.push(w);
  }
  s.reserved = reserved;
  for (const sw of [...s.active.values()]) advance(s, sw);
  for (const w of s.queue.items) {
    const pos = s.queue.positionOf(w);
    if (pos !== w.lastPosition) {
      w.lastPosition = pos;
      progress(s, w, "queued", `Queued behind ${pos - 1} request(s) for ${w.model}`, pos);
    }
  }
}

/** Commits a swap to `w.model`, evicting `evict`, and moves it on at once. */
function startSwap(s: CoreState, w: Waiter, evict: string[]): void {
  const swap: Swap = { target: w.model, evict, waiters: [w], started: false, toldStopping: false };
  s.active.set(w.model, swap);
  advance(s, swap);
}

/** Moves a swap on: stop what must go, then start (or grant) the target. */
function advance(s: CoreState, swap: Swap): void {
  if (swap.started) return;
  let waitingForStop = false;
  for (const e of swap.evict) {
    const st = s.models.get(e)?.state;
    if (st === "ready" || st === "starting") stop(s, e, s.config.healthCheckTimeout * 1000, "swap", "stopped", swap.target);
    if (s.models.get(e)?.state === "stopping") waitingForStop = true;
  }
  const t = s.models.get(swap.target)!;
  if (t.state === "stopping") waitingForStop = true;
  if (waitingForStop) {
    if (!swap.toldStopping) for (const w of swap.waiters) progress(s, w, "stopping_others", "Waiting for other models to stop");
    swap.toldStopping = true;
    return;
  }
  if (t.state === "ready") return finishSwap(s, swap);
  swap.started = true;
  if (t.state === "starting") return;
  t.startedAt = s.now;
  setState(s, swap.target, "starting");
  emit(s, { type: "start", model: swap.target });
  for (const w of swap.waiters) progress(s, w, "starting", `Starting ${swap.target}`);
}

/** The target is ready: the swap ends and every waiter is granted. */
export function finishSwap(s: CoreState, swap: Swap): void {
  s.active.delete(swap.target);
  for (const w of swap.waiters) grant(s, w);
}

/** Ends the swap to `model`, if any, rejecting its waiters with `r`. */
export function failSwap(s: CoreState, model: string, r: Rejection): void {
  const swap = s.active.get(model);
  if (swap === undefined) return;
  s.active.delete(model);
  for (const w of swap.waiters) reject(s, w, r);
}

/**
 * An out-of-memory start failure: stops the least recently used idle model
 * (not the target) and starts the target again once it is gone, keeping the
 * waiters. False when there is no idle model to give up (the failure stands).
 */
export function retryAfterOom(s: CoreState, model: string, message: string): boolean {
  const idle = runningSet(s, model).filter((id) => id !== model && usageOf(s, id).kind === "idle" && !s.reserved.has(id));
  const victim = evictionOrder(idle.filter((id) => !collides(model, [id], s.active)), (id) => usageOf(s, id))[0];
  if (victim === undefined) return false;
  const m = s.models.get(model)!;
  m.oomRetried = true;
  setState(s, model, "stopped", `out of memory, retrying after evicting ${victim}: ${message.split("\n")[0]}`);
  const swap = s.active.get(model);
  if (swap !== undefined) {
    swap.evict = [victim];
    swap.started = false;
    swap.toldStopping = false;
    stop(s, victim, s.config.healthCheckTimeout * 1000, "oom_retry", "stopped");
    advance(s, swap);
  }
  return true;
}

/** How the limit policies see a model: stopping, idle (ready, nothing in flight, no swap to it) or busy. */
function usageOf(s: CoreState, id: string): Usage {
  const m = s.models.get(id);
  if (m === undefined) return { kind: "idle", lastUsed: Number.NEGATIVE_INFINITY };
  const kind = m.state === "stopping" ? "stopping" : m.state === "ready" && m.inFlight === 0 && !s.active.has(id) ? "idle" : "busy";
  return { kind, lastUsed: m.lastUsed };
}

/** Every model not stopped, plus committed swap targets, sorted (what the policy sees). */
function runningSet(s: CoreState, exclude: string): string[] {
  const out = new Set<string>();
  for (const [id, m] of s.models) if (hasProcess(m.state)) out.add(id);
  for (const id of s.active.keys()) if (id !== exclude) out.add(id);
  return [...out].sort();
}
