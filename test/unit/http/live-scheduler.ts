/**
 * The scheduler HTTP tests run against: the real client and runner over a
 * MessageChannel, with fake model processes and a manual clock, on one
 * thread (no Worker, no process). Nothing here decides anything: every grant,
 * rejection, state and count comes from the real core. The wrapper only
 * records what the front asked of it (the seam under test) and gives tests a
 * way to put models into real states.
 */
import type { Config } from "../../../src/config/types.ts";
import { poll } from "../../../src/lib/async.ts";
import type { AcquireOptions, Lease, Scheduler, SettleResult } from "../../../src/scheduler/api.ts";
import type { SchedulerClient } from "../../../src/scheduler/client.ts";
import type { ModelStatus, SchedulerEvent } from "../../../src/scheduler/protocol.ts";
import { channelActor } from "../scheduler/channel-actor.ts";
import type { FakeProcess } from "../scheduler/fake-process.ts";

/** One `acquire` the front made, with its options (what the front asked, not what it got). */
export interface AcquireCall {
  model: string;
  options: AcquireOptions;
}

const within = () => ({ signal: AbortSignal.timeout(5000) });

export class LiveScheduler implements Scheduler {
  readonly acquires: AcquireCall[] = [];
  /** Every call the front made but `acquire`, `status` and `onEvent`, as `[op, ...args]`. */
  readonly calls: unknown[][] = [];
  /** Every scheduler event, in order. */
  readonly events: SchedulerEvent[];
  /** The fake model processes the runner started, in order. */
  readonly made: FakeProcess[];
  readonly #client: SchedulerClient;
  /** Release events of the leases `ready()` took itself: not the front's. */
  readonly #own = new Set<SchedulerEvent>();

  /** `autoReady` false: a started process stays `starting` until the test calls `ready()` on it. */
  constructor(config: Config, autoReady = true) {
    // Closed after each test by channel-actor.ts.
    ({ client: this.#client, made: this.made, events: this.events } = channelActor(config, { autoReady }));
  }

  acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
    this.acquires.push({ model, options });
    return this.#client.acquire(model, options);
  }
  status(): Promise<ModelStatus[]> {
    return this.#client.status();
  }
  unload(model: string | null): Promise<string[]> {
    this.calls.push(["unload", model]);
    return this.#client.unload(model);
  }
  shutdown(graceMs: number): Promise<void> {
    this.calls.push(["shutdown", graceMs]);
    return this.#client.shutdown(graceMs);
  }
  reload(config: Config): Promise<void> {
    this.calls.push(["reload"]);
    return this.#client.reload(config);
  }
  onEvent(listener: (event: SchedulerEvent) => void): () => void {
    return this.#client.onEvent(listener);
  }
  clockNow(): Promise<number> {
    this.calls.push(["clockNow"]);
    return this.#client.clockNow();
  }
  clockAdvance(ms: number): Promise<number> {
    this.calls.push(["clockAdvance", ms]);
    return this.#client.clockAdvance(ms);
  }
  settle(timeoutMs: number): Promise<SettleResult> {
    this.calls.push(["settle", timeoutMs]);
    return this.#client.settle(timeoutMs);
  }
  kill(model: string): Promise<void> {
    this.calls.push(["kill", model]);
    return this.#client.kill(model);
  }
  healthOverride(model: string, fail: boolean): Promise<void> {
    this.calls.push(["healthOverride", model, fail]);
    return this.#client.healthOverride(model, fail);
  }
  /** Recorded only: the drill would throw in this thread (the e2e suite drills it in a real Worker). */
  crash(): Promise<void> {
    this.calls.push(["crash"]);
    return Promise.resolve();
  }
  close(): void {
    this.calls.push(["close"]);
    this.#client.close();
  }
  /** False once the client saw its Worker die (`die`). */
  get alive(): boolean {
    return this.#client.alive;
  }
  /** Marks the scheduler dead, as a Worker that threw does. */
  die(message: string): void {
    this.#client.die(message, false);
  }

  /** Models whose grants ended (`release`), in the order the core counted them. */
  get releases(): string[] {
    return this.events.flatMap((e) => (e.kind === "request" && e.action === "released" && !this.#own.has(e) ? [e.model] : []));
  }

  /** Waits until the core has counted `n` releases, and returns them. */
  async released(n = 1): Promise<string[]> {
    await poll(() => (this.releases.length >= n ? true : undefined), 1, within());
    return this.releases;
  }

  /** Waits until `model`'s state is `state` (as `status()` reports it). */
  async reach(model: string, state: ModelStatus["state"]): Promise<void> {
    await poll(async () => ((await this.status()).find((s) => s.model === model)?.state === state ? true : undefined), 1, within());
  }

  /** Starts `model` and lets its process turn healthy: `ready`, nothing in flight (not recorded in `acquires`). */
  async ready(model: string): Promise<void> {
    const from = this.events.length;
    const lease = this.#client.acquire(model);
    await poll(() => (this.made.some((p) => p.model === model) ? true : undefined), 1, within());
    this.process(model).ready();
    (await lease).release();
    const released = await poll(() => this.events.slice(from).find((e) => e.kind === "request" && e.model === model && e.action === "released"), 1, within());
    this.#own.add(released);
  }

  /** Starts `model` and leaves it `starting` (needs `autoReady` false); `process(model).ready()` finishes the start. */
  async starting(model: string): Promise<{ lease: Promise<Lease> }> {
    const lease = this.#client.acquire(model);
    lease.catch(() => {}); // unawaited when the test ends with the model still starting
    await this.reach(model, "starting");
    return { lease };
  }

  /** The newest fake process of `model`. */
  process(model: string): FakeProcess {
    const p = this.made.findLast((x) => x.model === model);
    if (p === undefined) throw new Error(`Cannot find a process of ${model}: it was never started`);
    return p;
  }
}
