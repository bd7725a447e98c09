/**
 * What the main thread may ask of the scheduler. The HTTP layer depends on
 * this interface only; `client.ts` implements it over the Worker.
 */
import type { Config } from "../config/types.ts";
import type { ModelStatus, Progress, Rejection, SchedulerEvent, SettleResult } from "./protocol.ts";

export type { SettleResult };

/** A granted slot on a ready model; release exactly once when the response ends. */
export interface Lease {
  readonly model: string;
  /** Base URL of the model's server, no trailing slash. */
  readonly upstream: string;
  /** Idempotent: only the first call counts. */
  release(): void;
}

/** The one error callers of the scheduler branch on. */
export class SchedulerError extends Error {
  readonly rejection: Rejection;
  constructor(rejection: Rejection) {
    super(rejection.message);
    this.name = "SchedulerError";
    this.rejection = rejection;
  }
}

export interface AcquireOptions {
  /** Aborting cancels the request: it leaves the queue, or its lease is released. */
  signal?: AbortSignal;
  /** Called with loading progress while the request waits. */
  onProgress?: (p: Progress) => void;
  /** Do not start a stopped model; reject with `not_running` instead. */
  noStart?: boolean;
}

export interface Scheduler {
  /** Waits for a slot on `model` (a real model id, aliases already resolved). Rejects with SchedulerError. */
  acquire(model: string, options?: AcquireOptions): Promise<Lease>;
  status(): Promise<ModelStatus[]>;
  /** Stops one model (or all with null) and resolves with the ids that were stopped. */
  unload(model: string | null): Promise<string[]>;
  /** Rejects every waiter, stops every model, resolves when all are gone. */
  shutdown(graceMs: number): Promise<void>;
  reload(config: Config): Promise<void>;
  /** Subscribes to scheduler events; returns the unsubscribe function. */
  onEvent(listener: (event: SchedulerEvent) => void): () => void;
  // Test hooks (the Worker must have been started with a manual clock for clockAdvance).
  clockNow(): Promise<number>;
  clockAdvance(ms: number): Promise<number>;
  settle(timeoutMs: number): Promise<SettleResult>;
  kill(model: string): Promise<void>;
  healthOverride(model: string, fail: boolean): Promise<void>;
  /** Terminates the Worker; pending calls reject. */
  close(): void;
}
