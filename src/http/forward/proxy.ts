/**
 * Forwards one request upstream and streams the answer back chunk by chunk.
 *
 * The response body is a pull-based stream over the upstream body, so a slow
 * client slows the upstream (backpressure). `onDone` (the lease release) runs
 * exactly once: when the body ends, errors, the client leaves, or a drain ends it.
 */
import { HttpError } from "../errors.ts";
import { type ExchangeObserver, type GuardOptions, guardedStream, stalled } from "./guarded-stream.ts";
import { clientResponseHeaders, isEventStream } from "./headers.ts";
import type { InflightTracker } from "./inflight.ts";

export { type ExchangeObserver, stalled } from "./guarded-stream.ts";

export interface ProxyInit {
  /** Full upstream URL (base + path + query). */
  url: string;
  method: string;
  headers: Headers;
  body: RequestInit["body"];
  /**
   * The exchange's one controller (`forward.ts`): the client leaving, a cancel
   * through the API, a drain, and this proxy's own timeouts abort it, each with
   * an `HttpError` as its reason; aborting it aborts the upstream request.
   */
  abort: AbortController;
  /** Called exactly once when the exchange is over, whatever the outcome. */
  onDone: () => void;
  inflight?: InflightTracker;
  /** ms to wait for the upstream's response headers (`timeouts.responseHeader`); 0 waits forever. */
  headerTimeoutMs?: number;
  /**
   * `watchdog.stallTimeout` in ms (0: off): no byte moved for this long, from
   * the upstream or to the client, ends the exchange (504 before the answer
   * started, an SSE error event or a cut after), and releases its slot.
   */
  stallMs?: number;
  /** Bytes of the answer reached the client (the busy watchdog's evidence); called per chunk. */
  onProgress?: () => void;
  /** Sees the answer go by (the activity record): status, each chunk or the whole body, then the end, once. */
  observer?: ExchangeObserver;
}

/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The 499 for a client that left before its answer. */
export function clientClosed(): HttpError {
  return new HttpError("client_closed", "Cannot proxy request: the client closed the connection");
}

/** Calls `fn` on the first invocation only. */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args: A) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}

/** Why `abort` was aborted, as the HttpError the client gets (a reason that is not one counts as the client leaving). */
export function abortError(abort: AbortController): HttpError {
  const reason: unknown = abort.signal.reason;
  return reason instanceof HttpError ? reason : clientClosed();
}

/** Opens the upstream request; rejects with HttpError 502 when it cannot connect, or with why `init.abort` was aborted. */
export async function fetchUpstream(init: Omit<ProxyInit, "onDone" | "inflight">): Promise<Response> {
  const abort = init.abort;
  const waitMs = init.headerTimeoutMs ?? 0;
  const stallMs = init.stallMs ?? 0;
  const stallFirst = stallMs > 0 && (waitMs <= 0 || stallMs < waitMs);
  const timeout = stallFirst
    ? setTimeout(() => abort.abort(stalled(stallMs)), stallMs)
    : waitMs > 0
      ? setTimeout(() => abort.abort(new HttpError("upstream_timeout", `Cannot proxy request: upstream sent no response headers within ${waitMs} ms`)), waitMs)
      : undefined;
  const options = {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: abort.signal,
    redirect: "manual",
    timeout: false,
    decompress: false,
    // Streams need half-duplex to be sent as request bodies.
    ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit;
  try {
    try {
      return await fetch(init.url, options);
    } catch (err) {
      // A pooled keep-alive socket the upstream closed as it was reused (Bun.serve does this under load,
      // oven-sh/bun#42212) looks exactly like an upstream that read the request and then reset:
      // fetch cannot tell whether any byte was written. So only an idempotent request is sent again;
      // a POST that may have been processed is never repeated (a duplicate generation or side effect).
      if (!staleSocket(err) || abort.signal.aborted || !replayable(init.body) || !idempotent(init)) throw err;
      return await fetch(init.url, options);
    }
  } catch (err) {
    if (abort.signal.aborted) throw abortError(abort);
    // A request body stream that failed with its own status (413 past the upload limit).
    if (err instanceof HttpError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new HttpError("upstream_error", `Cannot reach upstream ${new URL(init.url).origin}: ${msg}`);
  } finally {
    clearTimeout(timeout);
  }
}

/** Whether a fetch failed because the connection was reset (a stale keep-alive socket). */
function staleSocket(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ECONNRESET";
}

/** HTTP's idempotent methods (RFC 9110 §9.2.2), and any request the client marked with an `Idempotency-Key`. */
function idempotent(init: Pick<ProxyInit, "method" | "headers">): boolean {
  const m = init.method.toUpperCase();
  return m === "GET" || m === "HEAD" || m === "OPTIONS" || m === "PUT" || m === "DELETE" || m === "TRACE" || init.headers.has("idempotency-key");
}

/** Whether a request body can be sent a second time (not a one-shot stream). */
function replayable(body: RequestInit["body"]): boolean {
  return body === null || body === undefined || typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** Proxies a request and returns the streaming client response. */
export async function proxyRequest(init: ProxyInit): Promise<Response> {
  // Only what the exchange needs after the headers is kept in this scope: the request body, its headers
  // and `init` itself are not captured by anything that lives as long as the response stream.
  const { abort, observer, onDone, inflight } = init;
  const method = init.method;
  const stallMs = init.stallMs ?? 0;
  if (abort.signal.aborted) {
    // The caller records the status; the release happens here.
    onDone();
    throw abortError(abort);
  }
  let upstream: Response;
  try {
    upstream = await fetchUpstream(init);
  } catch (err) {
    // The caller records a failed exchange (it knows the status the client gets); the release happens here.
    onDone();
    throw err;
  }
  observer?.response(upstream.status, upstream.headers);
  const headers = clientResponseHeaders(upstream.headers);
  const body = upstream.body;
  const status = { status: upstream.status, statusText: upstream.statusText, headers };
  if (body === null || method === "HEAD" || NULL_BODY_STATUSES.has(upstream.status)) {
    if (body !== null) await body.cancel().catch(() => {});
    onDone();
    observer?.end(null);
    return new Response(null, status);
  }
  if (bufferable(upstream.headers)) {
    const done = once((error: string | null) => {
      onDone();
      observer?.end(error);
    });
    return new Response(await readWhole(upstream, abort, { stallMs, inflight, observer }, done), status);
  }
  const guard: GuardOptions = { sse: isEventStream(upstream.headers), abort, onDone, stallMs };
  if (observer !== undefined) guard.observer = observer;
  if (init.onProgress) guard.onProgress = init.onProgress;
  if (inflight) guard.inflight = inflight;
  return new Response(guardedStream(body, guard), status);
}

/**
 * Bodies up to this size with a declared length are read whole and sent as
 * bytes: a JS stream wrapper costs 25-40% of throughput (measured), and a
 * non-streamed answer gains nothing from chunk-by-chunk relay.
 */
export const BUFFER_LIMIT = 1024 * 1024;

/** Whether a response is small, non-streamed and of known length. */
function bufferable(headers: Headers): boolean {
  const length = headers.get("content-length");
  if (length === null || headers.has("content-encoding") || isEventStream(headers)) return false;
  const n = Number(length);
  return Number.isInteger(n) && n >= 0 && n <= BUFFER_LIMIT;
}

/**
 * Reads a small upstream body whole, then runs `done`; a drain (via
 * `o.inflight`), a client abort or a stall aborts the read. A failed read becomes an HttpError.
 */
async function readWhole(
  upstream: Response,
  abort: AbortController,
  o: { stallMs: number; inflight: InflightTracker | undefined; observer: ExchangeObserver | undefined },
  done: (error: string | null) => void,
): Promise<ArrayBuffer> {
  let failure: string | null = null;
  const unregister = o.inflight?.add({ end: (reason: string) => abort.abort(new HttpError("shutting_down", reason)) }) ?? (() => {});
  // A small answer is one unit: no byte of it for stallMs is a stall.
  const stallMs = o.stallMs;
  const timer = stallMs > 0 ? setTimeout(() => abort.abort(stalled(stallMs)), stallMs) : undefined;
  try {
    const whole = await upstream.arrayBuffer();
    o.observer?.body(new Uint8Array(whole));
    return whole;
  } catch (err) {
    const e = abort.signal.aborted
      ? abortError(abort)
      : new HttpError("upstream_error", `Cannot finish response: the upstream body failed: ${err instanceof Error ? err.message : String(err)}`);
    failure = e.message;
    throw e;
  } finally {
    clearTimeout(timer);
    unregister();
    done(failure);
  }
}
