/**
 * The waiting room: requests that cannot be served or start a swap yet,
 * ordered by model priority (higher first), then arrival.
 */

/** One request the core has not granted or rejected yet. */
export interface Waiter {
  id: number;
  model: string;
  wantProgress: boolean;
  noStart: boolean;
  /** Last position sent in a `queued` progress, to send only changes. */
  lastPosition: number;
  /** When it first queued behind a busy model it would evict (maxSwapWait's origin); null otherwise. */
  busySince: number | null;
  /** The request's keep_alive in ms (negative: keep loaded), or null for the model's ttl. */
  keepAliveMs: number | null;
}

/** Priority-ordered FIFO; invariant: `items` sorted by priority desc, stable by arrival. */
export class WaitQueue {
  items: Waiter[] = [];

  /** Inserts before the first item of strictly lower priority (llama-swap's rule). */
  push(w: Waiter, priority: (model: string) => number): void {
    const p = priority(w.model);
    const i = this.items.findIndex((q) => priority(q.model) < p);
    if (i < 0) this.items.push(w);
    else this.items.splice(i, 0, w);
  }

  /** Removes and returns the waiter with `id`, if queued. */
  remove(id: number): Waiter | undefined {
    const i = this.items.findIndex((w) => w.id === id);
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }

  /** Removes and returns every waiter for which `pred` holds. */
  removeWhere(pred: (w: Waiter) => boolean): Waiter[] {
    const out = this.items.filter(pred);
    this.items = this.items.filter((w) => !pred(w));
    return out;
  }

  count(model: string): number {
    let n = 0;
    for (const w of this.items) if (w.model === model) n++;
    return n;
  }

  /** 1-based position of `w` among the queued waiters of its model. */
  positionOf(w: Waiter): number {
    let n = 0;
    for (const q of this.items) {
      if (q.model === w.model) n++;
      if (q === w) return n;
    }
    return 0;
  }
}
