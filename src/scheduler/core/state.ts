/**
 * The scheduler core's state as plain data, and the primitive steps every
 * rule is built from (emit an effect, change a model's state, grant, reject,
 * report progress, issue a stop). `SchedulerCore` owns one `CoreState`; the
 * modules next to this file change it only while `handle` runs.
 */
import type { Config } from "../../config/types.ts";
import type { ModelState, Progress, Rejection, Reply } from "../protocol.ts";
import type { Effect, StopReason } from "../core-types.ts";
import { leaveReady, type ModelEntry, newEntry } from "../model-entry.ts";
import type { Swap } from "../swap.ts";
import { WaitQueue, type Waiter } from "../queue.ts";

/** An admin reply (unload, shutdown, reload) owed once the listed models stop. */
export interface PendingReply {
  replyId: number;
  /** Models still starting, ready or stopping; the reply is sent when this empties. */
  waitFor: Set<string>;
  reply: Reply;
}

/** Everything the core knows between events; mutated only inside `SchedulerCore.handle`. */
export interface CoreState {
  /** The current configuration; replaced only by `reload`. */
  config: Config;
  /** Source of restart-backoff jitter (recorded by the runner for replay). */
  readonly random: () => number;
  /** One entry per configured model; a model removed by reload stays until stopped. */
  readonly models: Map<string, ModelEntry>;
  /** Requests not yet granted, rejected or joined to a swap. */
  readonly queue: WaitQueue;
  /** Target → swap in progress; a target is here from decision until ready/failure. */
  readonly active: Map<string, Swap>;
  /** Granted request id → model (in-flight). Only grants count toward `inFlight`. */
  readonly granted: Map<number, string>;
  /** Busy models a queued swap is waiting on; not granted to newcomers. Rebuilt by every drain. */
  reserved: Set<string>;
  /** Admin replies waiting for models to stop, in the order they were owed. */
  readonly replies: PendingReply[];
  /** Set once by `shutdown`: every model still ready is stopped by `deadline`. */
  shutdown: { deadline: number } | null;
  /** The timer last armed (null: none), so `armTimer` is emitted only on change. */
  timerAt: number | null;
  /**
   * Counts grants and releases: a model's `lastUsed` is this count at its last
   * use. A logical clock, so LRU order is exact even when two uses share a
   * millisecond (or the manual clock stands still).
   */
  uses: number;
  /** The core's only clock: the largest `now` of any event so far (never moves back). */
  now: number;
  /** Effects of the event being handled, in the order the runner must execute them. */
  out: Effect[];
}

/** A fresh state with every configured model stopped. */
export function newCoreState(config: Config, random: () => number, now: number): CoreState {
  const models = new Map<string, ModelEntry>();
  for (const id of scheduledIds(config)) models.set(id, newEntry(now));
  return {
    config, random, models, queue: new WaitQueue(), active: new Map(), granted: new Map(),
    reserved: new Set(), replies: [], shutdown: null, timerAt: null, uses: 0, now, out: [],
  };
}

/** The models the core schedules: every configured model, a model with replicas through its replica entries only. */
export function scheduledIds(config: Config): string[] {
  return Object.values(config.models).filter((m) => m.replicas.length === 0).map((m) => m.id);
}

/** Appends one effect to the current event's output. */
export function emit(s: CoreState, e: Effect): void {
  s.out.push(e);
}

/** Moves a model to `to` (no-op if already there) and reports the change. */
export function setState(s: CoreState, model: string, to: ModelState, detail?: string): void {
  const m = s.models.get(model)!;
  if (m.state === to) return;
  const from = m.state;
  m.state = to;
  m.since = s.now;
  const e: Extract<Effect, { type: "stateChanged" }> = { type: "stateChanged", model, from, to };
  if (detail !== undefined) e.detail = detail;
  if (to === "failed") {
    e.retryAt = m.retryAt;
    e.failures = m.failures;
  }
  emit(s, e);
}

/** Requests for `model` not yet granted: queued plus joined to its swap. */
export function waiting(s: CoreState, model: string): number {
  return s.queue.count(model) + (s.active.get(model)?.waiters.length ?? 0);
}

/** The model's `concurrencyLimit` (queued + in flight); 10 when unset or not positive. */
export function limit(s: CoreState, model: string): number {
  const l = s.config.models[model]?.concurrencyLimit ?? 10;
  return l > 0 ? l : 10;
}

/** Queue priority of a model (higher first). */
export function priority(s: CoreState, model: string): number {
  return s.config.priority[model] ?? 0;
}

/** Grace for unload, TTL, health timeout and shutdown stops: the model's unloadTimeout. */
export function unloadGrace(s: CoreState, model: string): number {
  return (s.config.models[model]?.unloadTimeout ?? 0) * 1000;
}

/** Grants `w`: one more in flight, remembered so its release is counted exactly once. */
export function grant(s: CoreState, w: Waiter): void {
  const m = s.models.get(w.model)!;
  if (m.inFlight === 0) m.lastActivity = s.now;
  m.inFlight++;
  m.lastUsed = ++s.uses;
  m.keepAliveMs = w.keepAliveMs;
  s.granted.set(w.id, w.model);
  emit(s, { type: "grant", id: w.id, model: w.model });
}

/** Answers `w` with a rejection. */
export function reject(s: CoreState, w: Waiter, r: Rejection): void {
  emit(s, { type: "reject", id: w.id, model: w.model, rejection: r });
}

/** Sends a progress update to `w` if it asked for them. */
export function progress(s: CoreState, w: Waiter, phase: Progress["phase"], message: string, position?: number): void {
  if (!w.wantProgress) return;
  const p: Progress = { model: w.model, phase, message };
  if (position !== undefined) p.position = position;
  emit(s, { type: "progress", id: w.id, progress: p });
}

/** Issues a stop unless one is under way; `after` is the state once stopped. */
export function stop(s: CoreState, model: string, graceMs: number, reason: StopReason, after: ModelEntry["afterStop"], forModel?: string): void {
  const m = s.models.get(model);
  if (m === undefined) return;
  m.afterStop = after === "stopped" && s.shutdown !== null ? "shutdown" : after;
  if (m.state !== "ready" && m.state !== "starting") return;
  leaveReady(m, s.now);
  setState(s, model, "stopping", reason);
  const e: Effect = { type: "stop", model, graceMs, reason };
  if (forModel !== undefined) e.for = forModel;
  emit(s, e);
}
