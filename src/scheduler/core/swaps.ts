/**
 * Placing a request (grant, join a swap, reject, queue, or start a swap),
 * moving swaps on (stop what must go, then start the target), and draining
 * the queue after every event. Steps 2-6 of the decision tree in `core.ts`.
 */
import { rejection, type Rejection } from "../protocol.ts";
import { hasProcess, restartGate } from "../model-entry.ts";
import { evictionFor, evictionOrder, type Usage } from "../policies/index.ts";
import { collides, type Swap } from "../swap.ts";
import type { Waiter } from "../queue.ts";
import { type CoreState, emit, grant, progress, reject, setState, stop, unloadGrace } from "./state.ts";

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
  if (s.shutdown !== null) {
    // Shutting down: no swap starts; a ready model still serves what was queued for it.
    if (m.state === "ready") grant(s, w);
    else reject(s, w, rejection("shutting_down", "Cannot serve the request as modelswap is shutting down"));
    return true;
  }
  if (w.noStart && m.state !== "ready") {
    reject(s, w, rejection("not_running", `Cannot serve the request as the model is not running: ${w.model}`));
    return true;
  }
  if (!hasProcess(m.state)) {
    const gate = restartGate(w.model, m, s.now);
    if (gate === "wait") {
      // In the restart delay: wait for it like a cold start (the timer fires at retryAt).
      if (!w.toldRestart) progress(s, w, "restarting", `Restarting ${w.model} in ${Math.ceil((m.retryAt - s.now) / 1000)} s`);
      w.toldRestart = true;
      return false;
    }
    if (gate !== "start") {
      reject(s, w, gate);
      return true;
    }
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
  if (s.shutdown === null) for (const id of s.models.keys()) restartEagerly(s, id);
  for (const sw of [...s.active.values()]) advance(s, sw);
  for (const w of s.queue.items) {
    // A waiter in the restart delay was told "restarting in N s"; a queue position would hide it.
    if (w.toldRestart === true && !hasProcess(s.models.get(w.model)?.state ?? "stopped")) continue;
    const pos = s.queue.positionOf(w);
    if (pos !== w.lastPosition) {
      w.lastPosition = pos;
      progress(s, w, "queued", `Queued behind ${pos - 1} request(s) for ${w.model}`, pos);
    }
  }
}

/**
 * `restart: always`: a model that crashed while loaded starts again once its
 * restart delay is over, with no request, when it fits without evicting
 * anything (otherwise the next request starts it, as `on-demand` would).
 */
function restartEagerly(s: CoreState, id: string): void {
  const m = s.models.get(id)!;
  if (!m.restartPending || hasProcess(m.state) || s.active.has(id) || m.retryAt > s.now) return;
  const eviction = evictionFor(id, runningSet(s, id), s.config, (x) => usageOf(s, x));
  if (!Array.isArray(eviction) || eviction.length > 0 || collides(id, eviction, s.active)) return;
  const swap: Swap = { target: id, evict: [], waiters: [], started: false, toldStopping: false };
  s.active.set(id, swap);
  advance(s, swap);
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
    // unloadTimeout, not llama-swap's healthCheckTimeout: one documented grace for every stop.
    if (st === "ready" || st === "starting") stop(s, e, unloadGrace(s, e), "swap", "stopped", swap.target);
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
  if (t.state !== "starting") {
    // A swap committed while the target was stopping (a missed health deadline, a crash)
    // still waits out the restart delay that stop ended in.
    const gate = restartGate(swap.target, t, s.now);
    if (gate === "wait") {
      for (const w of swap.waiters) {
        if (!w.toldRestart) progress(s, w, "restarting", `Restarting ${swap.target} in ${Math.ceil((t.retryAt - s.now) / 1000)} s`);
        w.toldRestart = true;
      }
      return;
    }
    if (gate !== "start") return failSwap(s, swap.target, gate);
  }
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
    stop(s, victim, unloadGrace(s, victim), "oom_retry", "stopped");
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
