/**
 * Time as the scheduler Worker sees it: real, or manual so tests and CI
 * scripts decide exactly when TTLs, backoffs and deadlines fire.
 */
import { delay } from "./async.ts";

export interface Clock {
  /** Milliseconds on this clock (monotonic). */
  now(): number;
  /** Resolves once `now()` has moved `ms` forward; rejects with the signal's reason. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall time from a monotonic source. */
export class RealClock implements Clock {
  readonly #origin = Date.now() - performance.now();
  now(): number {
    return Math.floor(this.#origin + performance.now());
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return delay(Math.max(0, ms), signal ? { signal } : {});
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A clock that moves only when `advance` is called. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Pending sleepers, unordered; `advance` fires them in (at, seq) order. */
  readonly #sleepers = new Set<Sleeper>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const s: Sleeper = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve };
      if (s.at <= this.#now) return resolve();
      this.#sleepers.add(s);
      signal?.addEventListener(
        "abort",
        () => {
          this.#sleepers.delete(s);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due by then in order. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance the clock as 'ms' must be >= 0: current value is ${ms}`);
    this.#now += ms;
    const due = [...this.#sleepers].filter((s) => s.at <= this.#now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const s of due) {
      this.#sleepers.delete(s);
      s.resolve();
    }
    return this.#now;
  }

  /** Number of sleepers still waiting. */
  get pending(): number {
    return this.#sleepers.size;
  }
}
