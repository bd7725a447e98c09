/**
 * A Scheduler for HTTP tests: grants leases on upstreams a test chooses,
 * records every call, answers `status()` from plain maps, and lets a test
 * emit events. No Worker, no processes.
 */
import type { Config } from "../../../src/config/types.ts";
import { type AcquireOptions, type Lease, type Scheduler, SchedulerError, type Select, type SettleResult } from "../../../src/scheduler/api.ts";
import { type Candidate, chooseSpillover, chooseWarm } from "../../../src/scheduler/policies/index.ts";
import type { ModelState, ModelStatus, Rejection, SchedulerEvent } from "../../../src/scheduler/protocol.ts";

export interface AcquireCall {
  model: string;
  options: AcquireOptions;
}

/** What `acquire` does for a model: grant (after an optional hook), or reject. */
export type Behaviour =
  | { kind: "grant"; upstream: string; before?: (options: AcquireOptions) => Promise<void> }
  | { kind: "reject"; rejection: Rejection };

export class FakeScheduler implements Scheduler {
  readonly acquires: AcquireCall[] = [];
  readonly releases: string[] = [];
  readonly unloads: Array<string | null> = [];
  /** Every call but `status()`, as `[op, ...args]`. */
  readonly calls: unknown[][] = [];
  readonly states = new Map<string, ModelState>();
  /** In-flight and queued counts `status()` reports per model (default 0 and 0). */
  readonly loads = new Map<string, { inFlight: number; queued: number }>();
  readonly behaviours = new Map<string, Behaviour>();
  /** Default upstream for models without a behaviour. */
  upstream = "http://127.0.0.1:1";
  /** What `clockNow` answers; `clockAdvance` adds to it. */
  now = 0;
  settleResult: SettleResult = { settled: true, pending: [] };
  /** When set, `kill` and `healthOverride` reject with this error. */
  failWith: SchedulerError | null = null;
  readonly #listeners = new Set<(e: SchedulerEvent) => void>();

  emit(event: SchedulerEvent): void {
    for (const l of this.#listeners) l(event);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  async acquire(requested: string, options: AcquireOptions = {}): Promise<Lease> {
    // A selector: choose as the core does, from the states and loads this fake reports.
    const model = options.select ? this.#choose(options.select) : requested;
    if (options.select?.peers.includes(model)) {
      this.calls.push(["acquire", requested]);
      this.acquires.push({ model, options });
      return { model, peer: model, upstream: "", release: () => {}, progress: () => {} };
    }
    this.calls.push(["acquire", model]);
    this.acquires.push({ model, options });
    const b = this.behaviours.get(model) ?? { kind: "grant", upstream: this.upstream };
    if (b.kind === "reject") throw new SchedulerError(b.rejection);
    if (options.noStart && this.states.get(model) !== "ready") {
      throw new SchedulerError({ code: "not_running", status: 409, message: `Cannot serve request: model ${model} is not running` });
    }
    if (b.before) await b.before(options);
    options.signal?.throwIfAborted();
    let released = false;
    return {
      model,
      peer: null,
      upstream: b.upstream,
      release: () => {
        if (released) return;
        released = true;
        this.releases.push(model);
      },
      progress: () => {},
    };
  }

  #choose(select: Select): string {
    const candidates = select.targets.map((id): Candidate => {
      if (select.peers.includes(id)) return { id, peer: true, state: "ready", load: 0 };
      const st = this.states.get(id);
      const load = (this.loads.get(id)?.inFlight ?? 0) + (this.loads.get(id)?.queued ?? 0);
      return { id, peer: false, state: st === "ready" || st === "starting" ? st : "stopped", load };
    });
    return (select.strategy === "warm" ? chooseWarm(candidates) : chooseSpillover(candidates, select.reserve)) ?? select.targets[0] ?? "";
  }

  async status(): Promise<ModelStatus[]> {
    return [...this.states].map(([model, state]) => ({ model, state, inFlight: 0, queued: 0, ...this.loads.get(model), pid: null, since: 0 }));
  }

  async unload(model: string | null): Promise<string[]> {
    this.calls.push(["unload", model]);
    this.unloads.push(model);
    return model === null ? [...this.states.keys()] : [model];
  }

  async shutdown(graceMs: number): Promise<void> {
    this.calls.push(["shutdown", graceMs]);
  }
  async reload(_config: Config): Promise<void> {
    this.calls.push(["reload"]);
  }
  onEvent(listener: (event: SchedulerEvent) => void): () => void {
    const own = (e: SchedulerEvent) => listener(e);
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }
  async clockNow(): Promise<number> {
    this.calls.push(["clockNow"]);
    return this.now;
  }
  async clockAdvance(ms: number): Promise<number> {
    this.calls.push(["clockAdvance", ms]);
    this.now += ms;
    return this.now;
  }
  async settle(timeoutMs: number): Promise<SettleResult> {
    this.calls.push(["settle", timeoutMs]);
    return this.settleResult;
  }
  async kill(model: string): Promise<void> {
    this.calls.push(["kill", model]);
    if (this.failWith) throw this.failWith;
  }
  async healthOverride(model: string, fail: boolean): Promise<void> {
    this.calls.push(["healthOverride", model, fail]);
    if (this.failWith) throw this.failWith;
  }
  close(): void {
    this.calls.push(["close"]);
  }
}
