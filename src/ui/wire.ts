/**
 * What `/api/events` sends the web UI, as types only: llama-swap's
 * `{"type", "data"}` envelope with modelswap's `seq`, `time` and `event`,
 * and llama-swap's model row. The server builds them
 * (`src/http/stream/event-frames.ts`), the page reads them (`app/frames.ts`);
 * one definition, so the two cannot drift. It imports nothing: browser code
 * and server code both type-check it.
 */

/** The states llama-swap's UI knows, plus modelswap's `failed` (gave up, or the next request retries) and `backoff` (waiting to retry). */
export type LlamaState = "ready" | "starting" | "stopping" | "shutdown" | "stopped" | "unknown" | "failed" | "backoff";

/** One row of llama-swap's `modelStatus` array. */
export interface LlamaModel {
  id: string;
  name: string;
  description: string;
  /** Empty for a peer's model, as llama-swap leaves it. */
  state: LlamaState | "";
  unlisted: boolean;
  /** Empty for local models. */
  peerID: string;
  /** Omitted when the model has none (Go's `omitempty`). */
  aliases?: string[];
  /** modelswap (local models): requests being served. */
  inFlight?: number;
  /** modelswap (local models): requests waiting. */
  queued?: number;
  /** modelswap (local models): wall time (ms) it entered its state, for uptime. */
  since?: number;
  /** modelswap: the last start failure or crash (with the server's last lines) while failed/backoff, else null. */
  error?: string | null;
  /** modelswap: wall time (ms) a request may start it again, while failed/backoff, else null. */
  retryAt?: number | null;
}

/** llama-swap's message types, plus modelswap's own kinds that have no llama-swap counterpart. */
export type MessageType = "modelStatus" | "logData" | "metrics" | "inflight" | "request" | "clock" | "profileChanged";

/** The JSON inside one `event: message` frame; `E` is the hub event as the reader types it. */
export interface EventMessageOf<E> {
  type: MessageType;
  /** JSON text, as llama-swap sends it. */
  data: string;
  /** The hub event's seq; for connect-time snapshot frames, the hub's last seq at connect. */
  seq: number;
  /** Wall time in ms. */
  time: number;
  /** The hub event; absent on snapshot frames. */
  event?: E;
}
