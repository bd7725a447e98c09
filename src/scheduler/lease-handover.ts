/**
 * The main thread's side of the lease hand-over: a lease a request released
 * is held for `LEASE_HOLD_MS` and given to the next request for the same
 * model, with no round trip to the Worker, while the scheduler says a new
 * request for that model would be granted at once anyway (its `reusable`
 * messages). Rules and measurements: the scheduler's design.md.
 */
import type { AcquireOptions } from "./api.ts";

/**
 * How long a released lease is held for the next request of its model. Short
 * enough that the Worker's view of in-flight counts, idle times and LRU
 * order is late by at most this much.
 */
export const LEASE_HOLD_MS = 2;

/** A lease as the hand-over keeps it. */
export interface HeldLease {
  id: number;
  upstream: string;
}

interface Entry extends HeldLease {
  /** `performance.now()` after which it goes back to the scheduler. */
  until: number;
}

/**
 * Held leases by model, and what decides whether a release may be held.
 *
 * @example
 * ```ts
 * const handover = new LeaseHandover((id) => post({ type: "release", id }));
 * handover.reusable("A", true);
 * handover.hold(1, "A", "http://127.0.0.1:5800"); // true: kept for 2 ms
 * handover.take("A", {}); // { id: 1, upstream: "http://127.0.0.1:5800" }
 * ```
 */
export class LeaseHandover {
  readonly #release: (id: number) => void;
  /** Models a new request would be granted at once, as the scheduler last said. */
  readonly #reusable = new Set<string>();
  readonly #held = new Map<string, Entry[]>();
  /**
   * Models whose latest acquire carried a keep_alive: the scheduler sets a model's idle time from
   * each grant on, so until a request without one has gone through it, nothing is held or handed over.
   */
  readonly #keepAlive = new Set<string>();
  /**
   * One timer for every held lease, due when the oldest runs out. Why not one per lease: a timer
   * and its closure made and cleared per request were ~0.9 % of the main thread at 64 connections, one ~0.3 %.
   */
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** `release` sends a lease's release to the scheduler for good. */
  constructor(release: (id: number) => void) {
    this.#release = release;
  }

  /** The scheduler's word on `model`; when it is no longer reusable, its held leases are released now. */
  reusable(model: string, ok: boolean): void {
    if (ok) {
      this.#reusable.add(model);
      return;
    }
    this.#reusable.delete(model);
    this.releaseHeld(model);
  }

  /**
   * A held lease for this acquire, or null when it must ask the scheduler. A
   * per-request idle time and a selector's pick are the scheduler's to
   * decide: those always ask (a keep_alive also releases what is held).
   */
  take(model: string, options: AcquireOptions): HeldLease | null {
    if (options.keepAliveMs !== undefined) {
      this.#keepAlive.add(model);
      this.releaseHeld(model);
      return null;
    }
    if (options.select !== undefined) return null;
    // The newest: the oldest run out first.
    const entry = this.#held.get(model)?.pop();
    if (entry !== undefined) return { id: entry.id, upstream: entry.upstream };
    // This one asks the scheduler, whose grant sets the model's idle time back.
    this.#keepAlive.delete(model);
    return null;
  }

  /** Keeps a released lease for the next request of `model` (true), or says it must be released now (false). */
  hold(id: number, model: string, upstream: string): boolean {
    if (!this.#reusable.has(model) || this.#keepAlive.has(model)) return false;
    let list = this.#held.get(model);
    if (list === undefined) this.#held.set(model, (list = []));
    list.push({ id, upstream, until: performance.now() + LEASE_HOLD_MS });
    this.#timer ??= setTimeout(this.#expire, LEASE_HOLD_MS);
    return true;
  }

  /** Releases the leases whose hold ran out; waits again for the oldest left. */
  readonly #expire = (): void => {
    this.#timer = null;
    const now = performance.now();
    let next = Infinity;
    for (const list of this.#held.values()) {
      let out = 0;
      while (out < list.length && list[out]!.until <= now) out++;
      for (const entry of list.splice(0, out)) this.#release(entry.id);
      if (list.length > 0) next = Math.min(next, list[0]!.until);
    }
    if (next !== Infinity) this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(next - now)));
  };

  /** Releases every held lease of `model` (null: of every model) now. */
  releaseHeld(model: string | null): void {
    for (const [m, list] of this.#held) {
      if (model !== null && m !== model) continue;
      for (const entry of list.splice(0)) this.#release(entry.id);
    }
  }

  /** Forgets everything without releasing (the scheduler is gone). */
  clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#held.clear();
    this.#reusable.clear();
    this.#keepAlive.clear();
  }
}
