/**
 * What the main thread may ask of the scheduler. The HTTP layer depends on
 * this interface only; `client.ts` implements it over the Worker.
 */
import type { Config } from "../config/types.ts";
import type { ModelStatus, Progress, Rejection, SchedulerEvent, Select, SettleResult } from "./protocol.ts";

export type { Select, SettleResult };

/** A granted slot on a ready model; release exactly once when the response ends. */
export interface Lease {
  /** The model granted: the one acquired, one of its replicas (`m@2`), or a selector's local pick. */
  readonly model: string;
  /** A selector picked this peer target instead: nothing is held, forward the request there. */
  readonly peer: string | null;
  /** Base URL of the model's server, no trailing slash. */
  readonly upstream: string;
  /**
   * Idempotent: only the first call counts. `cleanEnd`: the proxied answer
   * ended without an error, so the lease may go straight to the next request
   * of its model while the scheduler allows it (client.ts); after a failure
   * (a crashed server, a broken stream) it always goes back to the scheduler.
   */
  release(cleanEnd?: boolean): void;
  /**
   * Bytes of this response reached the client: evidence for the busy
   * watchdog. Cheap enough to call per chunk (reports are batched per second).
   */
  progress(): void;
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
  /** The request's keep_alive in ms (0 unloads after it, negative keeps the model loaded); absent: the model's ttl. */
  keepAliveMs?: number;
  /** `model` is a `warm`/`spillover` selector: these are its candidates, and the scheduler picks one. */
  select?: Select;
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
  /** Fault drill: makes the Worker throw, as a bug would. */
  crash(): Promise<void>;
  /** Terminates the Worker; pending calls reject. */
  close(): void;
  /** False once the Worker is gone (it died, or `close`): `/health` answers 503. Undefined: always up. */
  readonly alive?: boolean;
}
