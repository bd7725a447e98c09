/**
 * A Scheduler that grants leases on upstreams a test chooses, and records
 * every acquire and release: no Worker, no processes.
 */
import type { Config } from "../../../src/config/types.ts";
import { type AcquireOptions, type Lease, type Scheduler, SchedulerError, type SettleResult } from "../../../src/scheduler/api.ts";
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
  readonly states = new Map<string, ModelState>();
  /** In-flight and queued counts `status()` reports per model (default 0 and 0). */
  readonly loads = new Map<string, { inFlight: number; queued: number }>();
  readonly behaviours = new Map<string, Behaviour>();
  /** Default upstream for models without a behaviour. */
  upstream = "http://127.0.0.1:1";

  async acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
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
      upstream: b.upstream,
      release: () => {
        if (released) return;
        released = true;
        this.releases.push(model);
      },
    };
  }

  async status(): Promise<ModelStatus[]> {
    return [...this.states].map(([model, state]) => ({ model, state, inFlight: 0, queued: 0, ...this.loads.get(model), pid: null, since: 0 }));
  }

  async unload(model: string | null): Promise<string[]> {
    this.unloads.push(model);
    return model === null ? [...this.states.keys()] : [model];
  }

  async shutdown(_graceMs: number): Promise<void> {}
  async reload(_config: Config): Promise<void> {}
  onEvent(_listener: (event: SchedulerEvent) => void): () => void {
    return () => {};
  }
  async clockNow(): Promise<number> {
    return 0;
  }
  async clockAdvance(ms: number): Promise<number> {
    return ms;
  }
  async settle(_timeoutMs: number): Promise<SettleResult> {
    return { settled: true, pending: [] };
  }
  async kill(_model: string): Promise<void> {}
  async healthOverride(_model: string, _fail: boolean): Promise<void> {}
  close(): void {}
}
