/**
 * The main thread's side of the lease hand-over: a lease a request released
 * is held and given to the next request for the same model, with no round
 * trip to the Worker, while the scheduler says a new request for that model
 * would be granted at once anyway (its `reusable` messages). A model's held
 * leases go back once it went a whole `LEASE_HOLD_MS` without a request, and
 * any lease held for `LEASE_MAX_HOLD_MS` goes back whatever the traffic.
 * Rules and measurements: the scheduler's design.md.
 */
import type { AcquireOptions } from "./api.ts";

/**
 * A model's held leases go back to the scheduler once a whole period this
 * long passed with no request of it taking or releasing one (2-4 ms after
 * its last request). While it keeps getting requests, they stay: it is busy.
 */
export const LEASE_HOLD_MS = 2;

/**
 * No lease is held longer than this, however busy its model: when fewer
 * requests run at once than before, the leases the busier moment needed go
 * back, so the scheduler's in-flight count is never high for longer.
 */
export const LEASE_MAX_HOLD_MS = 1000;

/** A lease as the hand-over keeps it. */
export interface HeldLease {
  id: number;
  upstream: string;
}

interface Entry extends HeldLease {
  /** `performance.now()` when it was held. */
  heldAt: number;
}

interface ModelHeld {
  /** Oldest first (a take gets the newest). */
  entries: Entry[];
  /** Takes and holds so far, and the count the last check saw: unchanged for a whole period means idle. */
  uses: number;
  usesSeen: number;
}

/**
 * Held leases by model, and what decides whether a release may be held.
 *
 * @example
 * ```ts
 * const handover = new LeaseHandover((id) => post({ type: "release", id }));
 * handover.reusable("A", true);
 * handover.hold(1, "A", "http://127.0.0.1:5800"); // true: kept while "A" gets requests
 * handover.take("A", {}); // { id: 1, upstream: "http://127.0.0.1:5800" }
 * ```
 */
export class LeaseHandover {
  readonly #release: (id: number) => void;
  /** Models a new request would be granted at once, as the scheduler last said. */
  readonly #reusable = new Set<string>();
  readonly #held = new Map<string, ModelHeld>();
  /**
   * Models whose latest acquire carried a keep_alive: the scheduler sets a model's idle time from
   * each grant on, so until a request without one has gone through it, nothing is held or handed over.
   */
  readonly #keepAlive = new Set<string>();
  /** One timer for every held lease: a check each `LEASE_HOLD_MS` while any is held. */
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
   * decide: those always ask (a keep_alive also releases what is held, a
   * selector what its targets hold, so it picks by their real load).
   */
  take(model: string, options: AcquireOptions): HeldLease | null {
    if (options.keepAliveMs !== undefined) {
      this.#keepAlive.add(model);
      this.releaseHeld(model);
      return null;
    }
    if (options.select !== undefined) {
      for (const target of options.select.targets) this.releaseHeld(target);
      return null;
    }
    const held = this.#held.get(model);
    const entry = held?.entries.pop();
    if (entry !== undefined) {
      held!.uses++;
      return { id: entry.id, upstream: entry.upstream };
    }
    // This one asks the scheduler, whose grant sets the model's idle time back.
    this.#keepAlive.delete(model);
    return null;
  }

  /** Keeps a released lease for the next request of `model` (true), or says it must be released now (false). */
  hold(id: number, model: string, upstream: string): boolean {
    if (!this.#reusable.has(model) || this.#keepAlive.has(model)) return false;
    let held = this.#held.get(model);
    if (held === undefined) this.#held.set(model, (held = { entries: [], uses: 0, usesSeen: -1 }));
    held.entries.push({ id, upstream, heldAt: performance.now() });
    held.uses++;
    this.#timer ??= setTimeout(this.#due, LEASE_HOLD_MS);
    return true;
  }

  /** A period is over: check after this turn's I/O and timers (requests that waited through a stall count). */
  readonly #due = (): void => {
    setImmediate(this.#check);
  };

  /**
   * Gives back the leases of models that had no request since the last check, and any held too long.
   * Why "since the last check" and not an age: a main thread stalled longer than a period (a
   * collection, a burst) would find every lease expired before reading the requests waiting for
   * them, and those would all ask the Worker at once. Measured at 64 connections: leases that went
   * back 2 ms after their release sent ~11 % of requests to the Worker, held while the model is busy
   * 0.4 %; p99 -16 to -20 %, throughput and CPU per request within the noise (2 × 12 alternating pairs).
   */
  readonly #check = (): void => {
    this.#timer = null;
    const now = performance.now();
    let any = false;
    for (const held of this.#held.values()) {
      const list = held.entries;
      if (list.length === 0) continue;
      if (held.uses === held.usesSeen) {
        for (const entry of list.splice(0)) this.#release(entry.id);
        continue;
      }
      held.usesSeen = held.uses;
      let old = 0;
      while (old < list.length && now - list[old]!.heldAt >= LEASE_MAX_HOLD_MS) old++;
      for (const entry of list.splice(0, old)) this.#release(entry.id);
      any ||= list.length > 0;
    }
    if (any) this.#timer = setTimeout(this.#due, LEASE_HOLD_MS);
  };

  /** Releases every held lease of `model` (null: of every model) now. */
  releaseHeld(model: string | null): void {
    const models = model === null ? [...this.#held.values()] : [this.#held.get(model)];
    for (const held of models) if (held !== undefined) for (const entry of held.entries.splice(0)) this.#release(entry.id);
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
