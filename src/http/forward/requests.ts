/**
 * Model-routed requests in flight, by id, so one can be cancelled
 * (`POST /api/inflight/:id/cancel`, llama-swap's endpoint) and listed
 * (`GET /api/inflight`). Cancelling aborts the request as a client leaving
 * would: out of the queue, or its upstream fetch aborted and its lease released.
 */

/** One open request as listed. */
export interface OpenRequest {
  id: string;
  model: string;
  path: string;
  client: string;
  /** ISO 8601 arrival time. */
  started_at: string;
}

/** What a request registers: as listed, but its arrival as epoch ms (formatted only when listed). */
export interface NewRequest {
  model: string;
  path: string;
  client: string;
  /** Epoch ms of its arrival. */
  startedAt: number;
}

interface Entry {
  request: NewRequest;
  cancel: AbortController;
}

export class RequestRegistry {
  // Why numbers, a reference and no copy: `add` runs on every proxied request, `list` seldom.
  readonly #open = new Map<number, Entry>();
  #next = 1;

  /** Registers a request that a cancel ends by aborting `cancel`; returns its id (listed as a string). */
  add(request: NewRequest, cancel: AbortController): number {
    const id = this.#next++;
    this.#open.set(id, { request, cancel });
    return id;
  }

  /** The request `id` ended: it is no longer listed or cancellable. */
  remove(id: number): void {
    this.#open.delete(id);
  }

  /** Cancels request `id`; false when no such request is open. */
  cancel(id: string): boolean {
    const key = /^[1-9][0-9]*$/.test(id) ? Number(id) : NaN;
    const r = this.#open.get(key);
    if (r === undefined) return false;
    this.#open.delete(key);
    r.cancel.abort(new Error(`Request ${id} was cancelled through the API`));
    return true;
  }

  list(): OpenRequest[] {
    return [...this.#open].map(([id, { request: r }]) => ({
      id: String(id),
      model: r.model,
      path: r.path,
      client: r.client,
      started_at: new Date(r.startedAt).toISOString(),
    }));
  }
}
