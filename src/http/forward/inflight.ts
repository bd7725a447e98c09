/**
 * The set of proxied responses still streaming, so a graceful drain can wait
 * for them and then end the stragglers cleanly instead of cutting sockets.
 */

/** One open proxied response. */
export interface InflightEntry {
  /** Ends the response now: an SSE error event for event streams, an abort otherwise. */
  end(reason: string): void;
}

/** Tracks open responses; `idle()` resolves when none is left. */
export class InflightTracker {
  readonly #entries = new Set<InflightEntry>();
  #waiters: Array<() => void> = [];
  readonly #onEnd: () => void;

  /** `onEnd` runs whenever an entry is removed (the server's idle collector counts it as activity). */
  constructor(onEnd: () => void = () => {}) {
    this.#onEnd = onEnd;
  }

  /** Registers an entry (until `remove`). */
  add(entry: InflightEntry): void {
    this.#entries.add(entry);
  }

  /** Removes an entry; a second call, or one for an entry never added, does nothing. */
  remove(entry: InflightEntry): void {
    if (!this.#entries.delete(entry)) return;
    this.#onEnd();
    if (this.#entries.size === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Resolves when no entry is open (at once if none is). */
  idle(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends every open entry with `reason`. */
  endAll(reason: string): void {
    for (const e of [...this.#entries]) e.end(reason);
  }
}
