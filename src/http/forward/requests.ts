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

export class RequestRegistry {
  readonly #open = new Map<string, { info: OpenRequest; cancel: AbortController }>();
  #next = 1;

  /** Registers a request that a cancel ends by aborting `cancel`; returns its id and the removal. */
  add(info: Omit<OpenRequest, "id">, cancel: AbortController): { id: string; remove: () => void } {
    const id = String(this.#next++);
    this.#open.set(id, { info: { id, ...info }, cancel });
    return { id, remove: () => this.#open.delete(id) };
  }

  /** Cancels request `id`; false when no such request is open. */
  cancel(id: string): boolean {
    const r = this.#open.get(id);
    if (r === undefined) return false;
    this.#open.delete(id);
    r.cancel.abort(new Error(`Request ${id} was cancelled through the API`));
    return true;
  }

  list(): OpenRequest[] {
    return [...this.#open.values()].map((r) => r.info);
  }
}
