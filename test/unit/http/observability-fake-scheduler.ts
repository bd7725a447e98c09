/**
 * A Scheduler fake for the observability and test-hook route tests: it
 * records calls, answers from plain fields, and lets a test emit events.
 */
import type { Config } from "../../../src/config/types.ts";
import { testConfig as sharedTestConfig } from "../../helpers/config-fixture.ts";
import type { AppDeps } from "../../../src/http/deps.ts";
import { createEventHub } from "../../../src/http/event-hub.ts";
import { createLogHub } from "../../../src/http/log-hub.ts";
import { type Lease, type Scheduler, SchedulerError, type SettleResult } from "../../../src/scheduler/api.ts";
import { type ModelStatus, type SchedulerEvent, rejection } from "../../../src/scheduler/protocol.ts";

export class FakeScheduler implements Scheduler {
  now = 0;
  settleResult: SettleResult = { settled: true, pending: [] };
  /** Every call, as `[op, ...args]`. */
  readonly calls: unknown[][] = [];
  /** Models whose kill/healthOverride reject with this error. */
  failWith: SchedulerError | null = null;
  readonly #listeners = new Set<(e: SchedulerEvent) => void>();

  emit(event: SchedulerEvent): void {
    for (const l of this.#listeners) l(event);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  acquire(model: string): Promise<Lease> {
    this.calls.push(["acquire", model]);
    return Promise.reject(new SchedulerError(rejection("internal", "Cannot acquire: fake scheduler")));
  }
  /** What `status()` answers. */
  statuses: ModelStatus[] = [];
  async status(): Promise<ModelStatus[]> {
    return this.statuses;
  }
  async unload(model: string | null): Promise<string[]> {
    this.calls.push(["unload", model]);
    return [];
  }
  async shutdown(graceMs: number): Promise<void> {
    this.calls.push(["shutdown", graceMs]);
  }
  async reload(): Promise<void> {
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

/** A config with models `llama` (alias `gpt-4o`) and `author/qwen`, quiet stdout and no timestamps. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return sharedTestConfig({ llama: { aliases: ["gpt-4o"], proxy: "http://127.0.0.1:1" }, "author/qwen": { proxy: "http://127.0.0.1:1" } }, { shutdownTimeout: 10, ...overrides });
}

/** Deps wired like main.ts does, around a FakeScheduler. */
export function testDeps(overrides: Partial<Config> = {}): AppDeps & { scheduler: FakeScheduler } {
  const config = testConfig(overrides);
  return { config, scheduler: new FakeScheduler(), logs: createLogHub(config, () => {}), events: createEventHub(), testHooks: true };
}
