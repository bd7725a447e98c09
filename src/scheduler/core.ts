/**
 * The pure scheduler core: events in, effects out. No I/O, no timers, no
 * promises, no Date.now(): time arrives with each event. The rules and the
 * bug each one prevents are in `design.md` next to this file.
 *
 * Decision tree for a request (llama-swap's FIFO, made stricter):
 *  1. unknown model → `model_not_found`; shutting down → `shutting_down`;
 *     over `concurrencyLimit` (queued + in flight) → `too_many_requests`.
 *  2. a swap for the same model is in progress → join it.
 *  3. in restart backoff (after a failed start, or a crash within 60 s of
 *     turning ready) → `backoff`; `noStart` on a model not running → `not_running`.
 *  4. ready, nothing to evict, nothing evicting it, and no pending swap
 *     reserved it → grant at once (A B A B collates into A A B B).
 *  5. collides with an active swap, or would evict a busy model → queue; in
 *     the latter case the busy models are *reserved*: new requests for them
 *     queue too, or the swap would starve (llama-swap lets them through).
 *  6. otherwise start a swap: stop the evicted models, then start the target.
 *
 * This file is the door and the dispatch; the rules live in `core/`:
 * `admission.ts` (step 1, cancel, release), `swaps.ts` (steps 2-6, draining
 * the queue), `outcomes.ts` (process outcomes, backoff), `timers.ts` (health
 * deadline, TTL, shutdown grace), `admin.ts` (unload, shutdown, reload) over
 * the plain data in `state.ts`.
 */
import type { Config } from "../config/types.ts";
import type { ModelStatus } from "./protocol.ts";
import type { CoreEvent, Effect, IdleReport } from "./core-types.ts";
import { type CoreState, newCoreState, waiting } from "./core/state.ts";
import { onActivity, onCancel, onRelease, onRequest, reportCounts } from "./core/admission.ts";
import { drain } from "./core/swaps.ts";
import { onExited, onStarted, onStartFailed, onStopped } from "./core/outcomes.ts";
import { armTimer, onTick } from "./core/timers.ts";
import { onReload, onShutdown, onUnload } from "./core/admin.ts";

/** Pure scheduling state machine; `handle` is the only way state changes. */
export class SchedulerCore {
  /** Owned here, changed only inside `handle` (invariants documented on `CoreState`). */
  readonly #s: CoreState;

  constructor(config: Config, options: { random?: () => number; now?: number } = {}) {
    this.#s = newCoreState(config, options.random ?? Math.random, options.now ?? 0);
  }

  get config(): Config {
    return this.#s.config;
  }

  /** Feeds one event; returns the effects to execute, in order. */
  handle(event: CoreEvent): Effect[] {
    const s = this.#s;
    s.now = Math.max(s.now, event.now);
    s.out = [];
    dispatch(s, event);
    drain(s);
    armTimer(s);
    reportCounts(s);
    const out = s.out;
    s.out = [];
    return out;
  }

  /**
   * Snapshot for `/running` at clock time `now` (default: the last event's);
   * pid is the runner's to fill in.
   */
  status(now: number = this.#s.now): ModelStatus[] {
    const s = this.#s;
    // Models with replicas have no entry of their own: each replica is listed.
    return [...s.models].map(([model, m]) => ({
      model,
      state: m.state,
      inFlight: m.inFlight,
      queued: waiting(s, model),
      pid: null,
      since: m.since,
      forMs: Math.max(0, now - m.since),
      lastError: m.lastError,
      failures: m.failures,
      retryInMs: m.state === "failed" ? Math.max(0, m.retryAt - now) : null,
    }));
  }

  /** Idle: no swap in progress, nothing starting or stopping, queue empty, no reply owed. */
  isIdle(): IdleReport {
    const s = this.#s;
    const pending: string[] = [];
    for (const sw of s.active.values()) pending.push(`swap to ${sw.target} in progress`);
    for (const [id, m] of s.models) if (m.state === "starting" || m.state === "stopping") pending.push(`${id} is ${m.state}`);
    if (s.queue.items.length > 0) pending.push(`${s.queue.items.length} request(s) queued`);
    for (const r of s.replies) pending.push(`reply ${r.replyId} waits for ${[...r.waitFor].join(", ")}`);
    return { idle: pending.length === 0, pending };
  }
}

/** Routes one event to the module that owns its rule. */
function dispatch(s: CoreState, e: CoreEvent): void {
  switch (e.type) {
    case "request":
      return onRequest(s, {
        id: e.id, model: e.model, noStart: e.noStart, wantProgress: e.wantProgress, lastPosition: 0, busySince: null,
        keepAliveMs: e.keepAliveMs ?? null,
      }, e.select);
    case "activity":
      return onActivity(s, e.models);
    case "cancel":
      return onCancel(s, e.id);
    case "release":
      return onRelease(s, e.id, "released");
    case "started":
      return onStarted(s, e.model);
    case "startFailed":
      return onStartFailed(s, e.model, e.message);
    case "stopped":
      return onStopped(s, e.model);
    case "exited":
      return onExited(s, e.model, e.message);
    case "unload":
      return onUnload(s, e.model, e.replyId);
    case "tick":
      return onTick(s);
    case "shutdown":
      return onShutdown(s, e.graceMs, e.replyId);
    case "reload":
      return onReload(s, e.config, e.replyId);
    default: {
      const never: never = e;
      throw new TypeError(`Cannot handle scheduler event as its type is unknown: ${JSON.stringify(never)}`);
    }
  }
}
