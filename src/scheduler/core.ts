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
 */
import type { Config, ModelConfig } from "../config/types.ts";
import { rejection, type ModelStatus, type ModelState, type Progress, type Rejection } from "./protocol.ts";
import { BACKOFF, type CoreEvent, type Effect, type IdleReport, type StopReason } from "./core-types.ts";
import { backoffRejection, countFailure, leaveReady, type ModelEntry, newEntry, resetIfHealthy } from "./model-entry.ts";
import { evictionFor } from "./policies/index.ts";
import { collides, type Swap } from "./swap.ts";
import { WaitQueue, type Waiter } from "./queue.ts";

/** The fields that shape a running process: a reload restarts a model only when these change. */
function processKey(m: ModelConfig | undefined): string {
  return m === undefined ? "" : JSON.stringify([m.cmd, m.cmdStop, m.proxy, m.checkEndpoint, m.port, m.env]);
}

interface PendingReply {
  replyId: number;
  waitFor: Set<string>;
  value: unknown;
}

/** Pure scheduling state machine; `handle` is the only way state changes. */
export class SchedulerCore {
  #config: Config;
  readonly #random: () => number;
  readonly #models = new Map<string, ModelEntry>();
  readonly #queue = new WaitQueue();
  /** Target → swap in progress; a target is here from decision until ready/failure. */
  readonly #active = new Map<string, Swap>();
  /** Granted request id → model (in-flight). */
  readonly #granted = new Map<number, string>();
  /** Busy models a queued swap is waiting on; not granted to newcomers. */
  #reserved = new Set<string>();
  readonly #replies: PendingReply[] = [];
  #shutdown: { deadline: number } | null = null;
  #timerAt: number | null = null;
  #now = 0;
  #out: Effect[] = [];

  constructor(config: Config, options: { random?: () => number; now?: number } = {}) {
    this.#config = config;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? 0;
    for (const id of Object.keys(config.models)) this.#models.set(id, newEntry(this.#now));
  }

  get config(): Config {
    return this.#config;
  }

  /** Feeds one event; returns the effects to execute, in order. */
  handle(event: CoreEvent): Effect[] {
    this.#now = Math.max(this.#now, event.now);
    this.#out = [];
    this.#dispatch(event);
    this.#drain();
    this.#finish();
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** Snapshot for `/running` (pid is the runner's to fill in). */
  status(): ModelStatus[] {
    return [...this.#models].map(([model, m]) => ({
      model,
      state: m.state,
      inFlight: m.inFlight,
      queued: this.#waiting(model),
      pid: null,
      since: m.since,
    }));
  }

  /** Idle: no swap in progress, nothing starting or stopping, queue empty, no reply owed. */
  isIdle(): IdleReport {
    const pending: string[] = [];
    for (const s of this.#active.values()) pending.push(`swap to ${s.target} in progress`);
    for (const [id, m] of this.#models) if (m.state === "starting" || m.state === "stopping") pending.push(`${id} is ${m.state}`);
    if (this.#queue.items.length > 0) pending.push(`${this.#queue.items.length} request(s) queued`);
    for (const r of this.#replies) pending.push(`reply ${r.replyId} waits for ${[...r.waitFor].join(", ")}`);
    return { idle: pending.length === 0, pending };
  }

  #dispatch(e: CoreEvent): void {
    switch (e.type) {
      case "request":
        return this.#onRequest({ id: e.id, model: e.model, noStart: e.noStart, wantProgress: e.wantProgress, lastPosition: 0 });
      case "cancel":
        return this.#onCancel(e.id);
      case "release":
        return this.#onRelease(e.id, "released");
      case "started":
        return this.#onStarted(e.model);
      case "startFailed":
        return this.#onStartFailed(e.model, e.message);
      case "stopped":
        return this.#onStopped(e.model);
      case "exited":
        return this.#onExited(e.model, e.message);
      case "unload":
        return this.#onUnload(e.model, e.replyId);
      case "tick":
        return this.#onTick();
      case "shutdown":
        return this.#onShutdown(e.graceMs, e.replyId);
      case "reload":
        return this.#onReload(e.config, e.replyId);
      default: {
        const never: never = e;
        throw new TypeError(`Cannot handle scheduler event as its type is unknown: ${JSON.stringify(never)}`);
      }
    }
  }

  // ── requests ────────────────────────────────────────────────────────────

  #onRequest(w: Waiter): void {
    const m = this.#models.get(w.model);
    if (m === undefined || m.removed) return this.#reject(w, rejection("model_not_found", `Cannot find model: ${w.model}`));
    if (this.#shutdown !== null) return this.#reject(w, rejection("shutting_down", "Cannot serve the request as modelswap is shutting down"));
    const limit = this.#limit(w.model);
    if (m.inFlight + this.#waiting(w.model) >= limit) {
      return this.#reject(w, rejection("too_many_requests", `Cannot queue the request as the concurrency limit is reached: ${limit} for ${w.model}`, 1));
    }
    if (!this.#place(w, this.#reserved)) {
      this.#queue.push(w, (id) => this.#priority(id));
      this.#emit({ type: "request", id: w.id, model: w.model, action: "queued" });
    }
  }

  /**
   * Tries to grant, join, reject or start a swap for `w`; false means "queue it".
   * `reserved` holds models that earlier queued swaps wait on.
   */
  #place(w: Waiter, reserved: Set<string>): boolean {
    const m = this.#models.get(w.model)!;
    const swap = this.#active.get(w.model);
    if (swap !== undefined) {
      swap.waiters.push(w);
      this.#progress(w, swap.started ? "starting" : "stopping_others", swap.started ? `Starting ${w.model}` : `Waiting for other models to stop`);
      return true;
    }
    if (m.state === "failed" || (m.failures > 0 && m.state === "stopped" && this.#now < m.retryAt)) {
      const r = backoffRejection(w.model, m, this.#now);
      if (r !== null) {
        this.#reject(w, r);
        return true;
      }
    }
    if (w.noStart && m.state !== "ready") {
      this.#reject(w, rejection("not_running", `Cannot serve the request as the model is not running: ${w.model}`));
      return true;
    }
    const eviction = evictionFor(w.model, this.#runningSet(w.model), this.#config);
    if (!Array.isArray(eviction)) {
      this.#reject(w, rejection("cannot_fit", eviction.cannotFit));
      return true;
    }
    const blocked = collides(w.model, eviction, this.#active);
    if (m.state === "ready" && eviction.length === 0 && !blocked && !reserved.has(w.model)) {
      this.#grant(w);
      return true;
    }
    if (blocked || reserved.has(w.model)) return false;
    const busy = eviction.filter((e) => this.#models.get(e)?.state === "ready" && this.#models.get(e)!.inFlight > 0);
    if (busy.length > 0) {
      for (const b of busy) reserved.add(b);
      return false;
    }
    this.#startSwap(w, eviction);
    return true;
  }

  #onCancel(id: number): void {
    if (this.#granted.has(id)) return this.#onRelease(id, "cancelled");
    const w = this.#queue.remove(id);
    if (w !== undefined) {
      this.#emit({ type: "request", id, model: w.model, action: "cancelled" });
      return;
    }
    for (const [target, swap] of this.#active) {
      const i = swap.waiters.findIndex((x) => x.id === id);
      if (i < 0) continue;
      swap.waiters.splice(i, 1);
      this.#emit({ type: "request", id, model: target, action: "cancelled" });
      // Nobody left and nothing started yet: do not load for a caller that is gone.
      if (swap.waiters.length === 0 && !swap.started) this.#active.delete(target);
      return;
    }
  }

  #onRelease(id: number, action: "released" | "cancelled"): void {
    const model = this.#granted.get(id);
    if (model === undefined) return;
    this.#granted.delete(id);
    this.#emit({ type: "request", id, model, action });
    const m = this.#models.get(model);
    if (m === undefined) return;
    m.inFlight = Math.max(0, m.inFlight - 1);
    if (m.inFlight === 0) {
      m.idleSince = this.#now;
      if (this.#shutdown !== null && (m.state === "ready" || m.state === "starting")) this.#stop(model, this.#unloadGrace(model), "shutdown", "shutdown");
    }
  }

  #grant(w: Waiter): void {
    const m = this.#models.get(w.model)!;
    m.inFlight++;
    this.#granted.set(w.id, w.model);
    this.#emit({ type: "grant", id: w.id, model: w.model });
  }

  #reject(w: Waiter, r: Rejection): void {
    this.#emit({ type: "reject", id: w.id, model: w.model, rejection: r });
  }

  #progress(w: Waiter, phase: Progress["phase"], message: string, position?: number): void {
    if (!w.wantProgress) return;
    const progress: Progress = { model: w.model, phase, message };
    if (position !== undefined) progress.position = position;
    this.#emit({ type: "progress", id: w.id, progress });
  }

  // ── swaps ───────────────────────────────────────────────────────────────

  #startSwap(w: Waiter, evict: string[]): void {
    const swap: Swap = { target: w.model, evict, waiters: [w], started: false, toldStopping: false };
    this.#active.set(w.model, swap);
    this.#advance(swap);
  }

  /** Moves a swap on: stop what must go, then start (or grant) the target. */
  #advance(swap: Swap): void {
    if (swap.started) return;
    let waiting = false;
    for (const e of swap.evict) {
      const s = this.#models.get(e)?.state;
      if (s === "ready" || s === "starting") this.#stop(e, this.#config.healthCheckTimeout * 1000, "swap", "stopped");
      if (this.#models.get(e)?.state === "stopping") waiting = true;
    }
    const t = this.#models.get(swap.target)!;
    if (t.state === "stopping") waiting = true;
    if (waiting) {
      if (!swap.toldStopping) for (const w of swap.waiters) this.#progress(w, "stopping_others", "Waiting for other models to stop");
      swap.toldStopping = true;
      return;
    }
    if (t.state === "ready") return this.#finishSwap(swap);
    swap.started = true;
    if (t.state === "starting") return;
    t.startedAt = this.#now;
    this.#setState(swap.target, "starting");
    this.#emit({ type: "start", model: swap.target });
    for (const w of swap.waiters) this.#progress(w, "starting", `Starting ${swap.target}`);
  }

  #finishSwap(swap: Swap): void {
    this.#active.delete(swap.target);
    for (const w of swap.waiters) this.#grant(w);
  }

  #failSwap(model: string, r: Rejection): void {
    const swap = this.#active.get(model);
    if (swap === undefined) return;
    this.#active.delete(model);
    for (const w of swap.waiters) this.#reject(w, r);
  }

  /** Every model not stopped, plus committed swap targets, sorted (what the policy sees). */
  #runningSet(exclude: string): string[] {
    const out = new Set<string>();
    for (const [id, m] of this.#models) if (m.state === "starting" || m.state === "ready" || m.state === "stopping") out.add(id);
    for (const id of this.#active.keys()) if (id !== exclude) out.add(id);
    return [...out].sort();
  }

  /** Re-runs the decision tree over the queue in order; blocked items keep their place. */
  #drain(): void {
    const reserved = new Set<string>();
    const pending = this.#queue.items;
    this.#queue.items = [];
    for (const w of pending) {
      const m = this.#models.get(w.model);
      if (m === undefined || m.removed) {
        this.#reject(w, rejection("model_not_found", `Cannot find model: ${w.model}`));
        continue;
      }
      if (!this.#place(w, reserved)) this.#queue.items.push(w);
    }
    this.#reserved = reserved;
    for (const s of [...this.#active.values()]) this.#advance(s);
    for (const w of this.#queue.items) {
      const pos = this.#queue.positionOf(w);
      if (pos !== w.lastPosition) {
        w.lastPosition = pos;
        this.#progress(w, "queued", `Queued behind ${pos - 1} request(s) for ${w.model}`, pos);
      }
    }
  }

  // ── process outcomes ────────────────────────────────────────────────────

  #onStarted(model: string): void {
    const m = this.#models.get(model);
    if (m === undefined || m.state !== "starting") return;
    m.readyAt = this.#now;
    m.idleSince = this.#now;
    this.#setState(model, "ready");
    const swap = this.#active.get(model);
    if (swap !== undefined) this.#finishSwap(swap);
    if (this.#shutdown !== null && m.inFlight === 0) this.#stop(model, this.#unloadGrace(model), "shutdown", "shutdown");
  }

  #onStartFailed(model: string, message: string): void {
    const m = this.#models.get(model);
    if (m === undefined || m.state !== "starting") return;
    countFailure(m, this.#now, this.#random);
    this.#setState(model, this.#shutdown !== null ? "shutdown" : "failed", message);
    this.#failSwap(model, rejection("start_failed", `Cannot start model ${model}: ${message}`));
    this.#settleReplies(model);
  }

  #onStopped(model: string): void {
    const m = this.#models.get(model);
    if (m === undefined) return;
    if (m.state !== "stopping") return;
    this.#setState(model, m.afterStop);
    this.#settleReplies(model);
    if (m.removed) this.#models.delete(model);
  }

  #onExited(model: string, message: string): void {
    const m = this.#models.get(model);
    if (m === undefined) return;
    if (m.state === "starting") return this.#onStartFailed(model, message);
    if (m.state !== "ready") return;
    leaveReady(m, this.#now);
    if (this.#shutdown !== null) this.#setState(model, "shutdown", message);
    else if (m.lastHealthyMs >= BACKOFF.healthyResetMs) {
      // Served for a healthy period: forget earlier failures and restart on demand.
      resetIfHealthy(m);
      this.#setState(model, "stopped", message);
    } else {
      // Died soon after turning ready: a failure like a failed start, or it would crash-loop.
      countFailure(m, this.#now, this.#random);
      this.#setState(model, "failed", message);
    }
    this.#settleReplies(model);
  }

  /** Issues a stop unless one is under way; `after` is the state once stopped. */
  #stop(model: string, graceMs: number, reason: StopReason, after: ModelEntry["afterStop"]): void {
    const m = this.#models.get(model);
    if (m === undefined) return;
    m.afterStop = after === "stopped" && this.#shutdown !== null ? "shutdown" : after;
    if (m.state !== "ready" && m.state !== "starting") return;
    leaveReady(m, this.#now);
    this.#setState(model, "stopping", reason);
    this.#emit({ type: "stop", model, graceMs, reason });
  }

  // ── admin ───────────────────────────────────────────────────────────────

  /** Releases waiters and stops at once, like llama-swap: in-flight requests see their upstream go. */
  #onUnload(model: string | null, replyId: number): void {
    const targets = model === null ? [...this.#models.keys()] : this.#models.has(model) ? [model] : [];
    const stopped: string[] = [];
    for (const t of targets) {
      const m = this.#models.get(t)!;
      this.#releaseWaiters(t, rejection("unloaded", `Cannot serve the request as the model was unloaded: ${t}`));
      m.failures = 0;
      m.retryAt = 0;
      if (m.state === "failed") this.#setState(t, "stopped");
      if (m.state === "ready" || m.state === "starting" || m.state === "stopping") stopped.push(t);
      this.#stop(t, this.#unloadGrace(t), "unload", "stopped");
    }
    this.#owe(replyId, stopped, stopped);
  }

  #onShutdown(graceMs: number, replyId: number): void {
    this.#shutdown = { deadline: this.#now + graceMs };
    const live: string[] = [];
    for (const id of this.#models.keys()) {
      this.#releaseWaiters(id, rejection("shutting_down", "Cannot serve the request as modelswap is shutting down"));
    }
    for (const [id, m] of this.#models) {
      if (m.state === "ready" || m.state === "starting" || m.state === "stopping") live.push(id);
      if (m.state === "starting" || (m.state === "ready" && (m.inFlight === 0 || graceMs <= 0))) {
        this.#stop(id, this.#unloadGrace(id), "shutdown", "shutdown");
      } else if (m.state === "stopping") {
        m.afterStop = "shutdown";
      } else if (m.state !== "ready") {
        this.#setState(id, "shutdown");
      }
    }
    this.#owe(replyId, live, null);
  }

  #onReload(config: Config, replyId: number): void {
    const old = this.#config;
    this.#config = config;
    const stopping: string[] = [];
    for (const [id, m] of this.#models) {
      const next = config.models[id];
      m.failures = 0;
      m.retryAt = 0;
      if (m.state === "failed") this.#setState(id, "stopped");
      if (next !== undefined && processKey(next) === processKey(old.models[id])) continue;
      if (next === undefined) m.removed = true;
      const code = next === undefined ? "model_not_found" : "unloaded";
      this.#releaseWaiters(id, rejection(code, `Cannot serve the request as the model's configuration changed: ${id}`));
      if (m.state === "ready" || m.state === "starting" || m.state === "stopping") stopping.push(id);
      const grace = (old.models[id]?.unloadTimeout ?? 0) * 1000;
      this.#stop(id, grace, "reload", "stopped");
      if (m.removed && m.state !== "stopping") this.#models.delete(id);
    }
    for (const id of Object.keys(config.models)) if (!this.#models.has(id)) this.#models.set(id, newEntry(this.#now));
    this.#owe(replyId, stopping, null);
  }

  #releaseWaiters(model: string, r: Rejection): void {
    this.#failSwap(model, r);
    for (const w of this.#queue.removeWhere((q) => q.model === model)) this.#reject(w, r);
  }

  #owe(replyId: number, waitFor: string[], value: unknown): void {
    const live = (id: string) => ["starting", "ready", "stopping"].includes(this.#models.get(id)?.state ?? "stopped");
    const pending = new Set(waitFor.filter(live));
    if (pending.size === 0) this.#emit({ type: "reply", replyId, value });
    else this.#replies.push({ replyId, waitFor: pending, value });
  }

  #settleReplies(model: string): void {
    for (let i = 0; i < this.#replies.length; i++) {
      const r = this.#replies[i]!;
      r.waitFor.delete(model);
      if (r.waitFor.size > 0) continue;
      this.#replies.splice(i--, 1);
      this.#emit({ type: "reply", replyId: r.replyId, value: r.value });
    }
  }

  // ── time ────────────────────────────────────────────────────────────────

  #onTick(): void {
    for (const [id, m] of this.#models) {
      const due = this.#deadlineOf(id, m);
      if (due === null || due > this.#now) continue;
      if (m.state === "starting") {
        const r = rejection("health_timeout", `Cannot start model as it was not healthy within ${this.#config.healthCheckTimeout} s: ${id}`);
        countFailure(m, this.#now, this.#random);
        this.#failSwap(id, r);
        this.#stop(id, this.#unloadGrace(id), "health_timeout", this.#shutdown !== null ? "shutdown" : "failed");
      } else if (this.#shutdown !== null) {
        this.#stop(id, this.#unloadGrace(id), "shutdown", "shutdown");
      } else {
        this.#stop(id, this.#unloadGrace(id), "ttl", "stopped");
      }
    }
  }

  /** When the model next needs attention: health deadline, TTL or shutdown grace. */
  #deadlineOf(id: string, m: ModelEntry): number | null {
    if (m.state === "starting") return m.startedAt + this.#config.healthCheckTimeout * 1000;
    if (m.state !== "ready") return null;
    if (this.#shutdown !== null) return this.#shutdown.deadline;
    const ttl = this.#config.models[id]?.ttl ?? 0;
    if (ttl <= 0 || m.inFlight > 0 || this.#reservedOrEvicting(id)) return null;
    return m.idleSince + ttl * 1000;
  }

  #reservedOrEvicting(id: string): boolean {
    return this.#reserved.has(id) || this.#active.has(id);
  }

  #finish(): void {
    let at: number | null = null;
    for (const [id, m] of this.#models) {
      const d = this.#deadlineOf(id, m);
      if (d !== null && (at === null || d < at)) at = d;
    }
    if (at !== this.#timerAt) {
      this.#timerAt = at;
      this.#emit({ type: "armTimer", at });
    }
    for (const [id, m] of this.#models) {
      const queued = this.#waiting(id);
      if (m.reported.inFlight !== m.inFlight || m.reported.queued !== queued) {
        m.reported = { inFlight: m.inFlight, queued };
        this.#emit({ type: "inflight", model: id, inFlight: m.inFlight, queued });
      }
    }
  }

  // ── helpers ─────────────────────────────────────────────────────────────

  #setState(model: string, to: ModelState, detail?: string): void {
    const m = this.#models.get(model)!;
    if (m.state === to) return;
    const from = m.state;
    m.state = to;
    m.since = this.#now;
    const e: Effect = { type: "stateChanged", model, from, to };
    if (detail !== undefined) e.detail = detail;
    this.#emit(e);
  }

  #waiting(model: string): number {
    return this.#queue.count(model) + (this.#active.get(model)?.waiters.length ?? 0);
  }

  #limit(model: string): number {
    const l = this.#config.models[model]?.concurrencyLimit ?? 10;
    return l > 0 ? l : 10;
  }

  #priority(model: string): number {
    return this.#config.priority[model] ?? 0;
  }

  #unloadGrace(model: string): number {
    return (this.#config.models[model]?.unloadTimeout ?? 0) * 1000;
  }

  #emit(e: Effect): void {
    this.#out.push(e);
  }
}
