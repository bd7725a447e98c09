/**
 * Forwards one request upstream and streams the answer back chunk by chunk.
 *
 * A streamed answer reaches the client through the pooled client's own body
 * stream, watched from inside it (`StreamGuard`), or, over Bun's fetch,
 * through a guarded stream pulled as the client reads; either way a slow
 * client slows the upstream (backpressure). `onDone` (the lease release) runs
 * exactly once: when the body ends, errors, the client leaves, or a drain ends it.
 */
import { HttpError } from "../errors.ts";
import { clientResponseHeaders, isEventStream } from "./headers.ts";
import type { InflightEntry, InflightTracker } from "./inflight.ts";
import { type GuardOptions, guardedStream, StreamGuard, stalled } from "./stream-guard.ts";
import { type Http1Init, forwardableHeaders, POOLED_CLIENT, WHOLE_BODY_LIMIT, http1Fetch, wholeBody } from "../../lib/http1/client.ts";

export interface ProxyInit {
  /** Full upstream URL (base + path + query). */
  url: string;
  method: string;
  headers: Headers;
  body: RequestInit["body"];
  /**
   * The exchange's one controller: the client leaving, a cancel through the
   * API or a drain abort it (a drain with an HttpError); the proxy aborts it
   * with an HttpError for its own timeouts and when the client cancels the body.
   */
  abort: AbortController;
  /** Called exactly once when the exchange is over, whatever the outcome; `clean` when it ended without an error. */
  onDone: (clean: boolean) => void;
  inflight?: InflightTracker;
  /** ms to wait for the upstream's response headers (`timeouts.responseHeader`); 0 waits forever. */
  headerTimeoutMs?: number;
  /** ms a new upstream connection may take to open (`timeouts.connect`; plain-HTTP upstreams); 0: no limit. */
  connectTimeoutMs?: number;
  /** TCP keepalive of new upstream connections in ms (`timeouts.keepalive`; plain-HTTP upstreams); 0: off. */
  tcpKeepAliveMs?: number;
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

/**
 * What the proxy tells about an exchange as it happens; `end` comes once, after
 * the last byte, with why it failed (or null). Per chunk it must only count
 * and keep references: it runs on the hot path.
 */
export interface ExchangeObserver {
  response(status: number, headers: Headers): void;
  chunk(c: Uint8Array): void;
  body(b: Uint8Array): void;
  end(error: string | null): void;
}

/** Statuses whose responses cannot carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The 499 for a client that left before its answer. */
function clientClosed(): HttpError {
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

/**
 * Opens the upstream request; rejects with HttpError 502 when it cannot
 * connect. `watchBody` watches a streamed answer from inside the pooled
 * client's body stream (plain-HTTP upstreams; see `http1Fetch`).
 */
export async function fetchUpstream(init: Omit<ProxyInit, "onDone" | "inflight">, watchBody?: Http1Init["watchBody"]): Promise<Response> {
  const abort = init.abort;
  const waitMs = init.headerTimeoutMs ?? 0;
  const stallMs = init.stallMs ?? 0;
  const stallFirst = stallMs > 0 && (waitMs <= 0 || stallMs < waitMs);
  const timeout = stallFirst
    ? setTimeout(() => abort.abort(stalled(stallMs)), stallMs)
    : waitMs > 0
      ? setTimeout(() => abort.abort(new HttpError("upstream_timeout", `Cannot proxy request: upstream sent no response headers within ${waitMs} ms`)), waitMs)
      : undefined;
  try {
    try {
      return await send(init, watchBody);
    } catch (err) {
      // A keep-alive socket the upstream closed as it was reused (Bun.serve does this under load,
      // oven-sh/bun#42212; cpp-httplib after a chunked answer) looks exactly like an upstream that
      // read the request and then reset: neither fetch nor the pooled client can tell whether any
      // byte was taken. So only an idempotent request is sent again; a POST that may have been
      // processed is never repeated (a duplicate generation or side effect).
      if (!staleSocket(err) || abort.signal.aborted || !replayable(init.body) || !idempotent(init)) throw err;
      return await send(init, watchBody);
    }
  } catch (err) {
    // Our own timeouts and a drain abort with their HttpError; any other abort is the client leaving.
    if (abort.signal.reason instanceof HttpError) throw abort.signal.reason;
    if (abort.signal.aborted) throw clientClosed();
    // A request body stream that failed with its own status (413 past the upload limit).
    if (err instanceof HttpError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new HttpError("upstream_error", `Cannot reach upstream ${new URL(init.url).origin}: ${msg}`);
  } finally {
    clearTimeout(timeout);
  }
}

/** Sends the request once: over the pooled client (plain http:, a body in hand) or Bun's fetch (https: peers, one-shot body streams). */
function send(init: Omit<ProxyInit, "onDone" | "inflight">, watchBody: Http1Init["watchBody"]): Promise<Response> {
  const bytes = pooledBody(init);
  if (bytes === undefined) {
    return fetch(init.url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: init.abort.signal,
      redirect: "manual",
      timeout: false,
      decompress: false,
      // Streams need half-duplex to be sent as request bodies.
      ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  }
  return http1Fetch(parsedUrl(init.url), {
    method: init.method,
    headers: init.headers,
    body: bytes,
    signal: init.abort.signal,
    connectTimeoutMs: init.connectTimeoutMs ?? 0,
    tcpKeepAliveMs: init.tcpKeepAliveMs ?? 0,
    watchBody,
  });
}

/** Upstream URLs parsed, by their text: a model's requests go to a handful of URLs, and parsing one was per request. */
const parsedUrls = new Map<string, URL>();
const PARSED_URLS_MAX = 256;

/** `new URL(url)`, parsed once (the pooled client only reads it). */
function parsedUrl(url: string): URL {
  let parsed = parsedUrls.get(url);
  if (parsed === undefined) {
    // Queries can make URLs many: past the bound the cache starts again rather than grow.
    if (parsedUrls.size >= PARSED_URLS_MAX) parsedUrls.clear();
    parsed = new URL(url);
    parsedUrls.set(url, parsed);
  }
  return parsed;
}

const encoder = new TextEncoder();

/**
 * The body as bytes when the request goes over the pooled HTTP/1.1 client
 * (plain http:, a body in hand), or undefined for fetch (https: peers,
 * one-shot streams such as a multipart upload read on the fly).
 */
function pooledBody(init: Pick<ProxyInit, "url" | "body">): Uint8Array | null | undefined {
  if (!POOLED_CLIENT || !init.url.startsWith("http:")) return undefined;
  const b = init.body;
  if (b === null || b === undefined) return null;
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (typeof b === "string") return encoder.encode(b);
  return undefined;
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

/**
 * One proxied exchange's end: `done` runs once (the in-flight entry of its
 * stream leaves, the lease goes back, the record ends), and the guard of a
 * streamed answer. One object per request rather than a closure for each.
 */
class ProxiedExchange {
  readonly #init: ProxyInit;
  #done = false;
  /** The streamed answer's entry among the requests in flight (a drain ends it), once registered. */
  #entry: InflightEntry | null = null;
  /** The pooled client handed the answer's body to a guard (`watchBody`). */
  watched = false;

  constructor(init: ProxyInit) {
    this.#init = init;
  }

  done(error: string | null): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#entry !== null) this.#init.inflight?.remove(this.#entry);
    this.#init.onDone(error === null);
    this.#init.observer?.end(error);
  }

  /** What guards a streamed answer with `headers`. */
  guard(headers: Headers): GuardOptions {
    const init = this.#init;
    const o: GuardOptions = {
      sse: isEventStream(headers),
      abort: init.abort,
      done: (error) => this.done(error),
      stallMs: init.stallMs ?? 0,
      register: (entry) => {
        this.#entry = entry;
        init.inflight?.add(entry);
      },
    };
    if (init.observer !== undefined) o.observer = init.observer;
    if (init.onProgress !== undefined) o.onProgress = init.onProgress;
    return o;
  }

  // A streamed answer over the pooled client is guarded inside its own body stream, as its head arrives
  // (before any of its bytes): one stream to the client instead of two (measured: the same time to first
  // byte, ~3 % less CPU per streamed token; README § Benchmarks).
  readonly watchBody: NonNullable<Http1Init["watchBody"]> = (status, headers, out) => {
    if (this.#init.method === "HEAD" || NULL_BODY_STATUSES.has(status)) return null;
    this.watched = true;
    this.#init.observer?.response(status, headers);
    return new StreamGuard(this.guard(headers), out);
  };
}

/** Proxies a request and returns the streaming client response. */
export async function proxyRequest(init: ProxyInit): Promise<Response> {
  const abort = init.abort;
  if (abort.signal.aborted) {
    // The caller records the status; the release happens here.
    init.onDone(false);
    throw abort.signal.reason instanceof HttpError ? abort.signal.reason : clientClosed();
  }
  const x = new ProxiedExchange(init);
  let upstream: Response;
  try {
    upstream = await fetchUpstream(init, x.watchBody);
  } catch (err) {
    // The caller records a failed exchange (it knows the status the client gets); the release happens here.
    init.onDone(false);
    throw err;
  }
  const observer = init.observer;
  const headers = clientResponseHeaders(upstream.headers, forwardableHeaders(upstream));
  const answer = { status: upstream.status, statusText: upstream.statusText, headers };
  if (x.watched) return new Response(upstream.body, answer);
  observer?.response(upstream.status, upstream.headers);
  // The pooled client's small answers are in hand already (and asking for `body` would make a stream of them).
  const whole = wholeBody(upstream);
  if (whole !== undefined && init.method !== "HEAD" && !NULL_BODY_STATUSES.has(upstream.status) && bufferable(upstream.headers)) {
    observer?.body(whole);
    x.done(null);
    return new Response(whole, answer);
  }
  const body = upstream.body;
  if (body === null || init.method === "HEAD" || NULL_BODY_STATUSES.has(upstream.status)) {
    if (body !== null) await body.cancel().catch(() => {});
    x.done(null);
    return new Response(null, answer);
  }
  // Fetch's small answers are read whole (readWhole).
  if (bufferable(upstream.headers)) return new Response(await readWhole(upstream, init, (error) => x.done(error)), answer);
  return new Response(guardedStream(body, x.guard(upstream.headers)), answer);
}

/**
 * Bodies up to this size with a declared length are read whole and sent as
 * bytes: a JS stream wrapper costs 25-40% of throughput (measured), and a
 * non-streamed answer gains nothing from chunk-by-chunk relay. The pooled
 * client already reads such bodies whole, so both use one limit.
 */
const BUFFER_LIMIT = WHOLE_BODY_LIMIT;

/** Whether a response is small, non-streamed and of known length. */
function bufferable(headers: Headers): boolean {
  const length = headers.get("content-length");
  if (length === null || headers.has("content-encoding") || isEventStream(headers)) return false;
  const n = Number(length);
  return Number.isInteger(n) && n >= 0 && n <= BUFFER_LIMIT;
}

/**
 * Reads a small upstream body whole, then runs `done`; a drain (via
 * `init.inflight`) or a client abort cancels the read. A failed read becomes an HttpError.
 */
async function readWhole(upstream: Response, init: ProxyInit, done: (error: string | null) => void): Promise<ArrayBuffer> {
  const abort = init.abort;
  let ended: string | null = null;
  let failure: string | null = null;
  const entry = {
    end(reason: string) {
      ended = reason;
      abort.abort(new Error(reason));
    },
  };
  init.inflight?.add(entry);
  // A small answer is one unit: no byte of it for stallMs is a stall.
  const stallMs = init.stallMs ?? 0;
  let stall = false;
  const timer = stallMs > 0 ? setTimeout(() => ((stall = true), abort.abort(stalled(stallMs))), stallMs) : undefined;
  try {
    const whole = await upstream.arrayBuffer();
    init.observer?.body(new Uint8Array(whole));
    return whole;
  } catch (err) {
    const e = stall
      ? stalled(stallMs)
      : ended !== null
        ? new HttpError("shutting_down", ended)
        : abort.signal.aborted
          ? clientClosed()
          : new HttpError("upstream_error", `Cannot finish response: the upstream body failed: ${err instanceof Error ? err.message : String(err)}`);
    failure = e.message;
    throw e;
  } finally {
    clearTimeout(timer);
    init.inflight?.remove(entry);
    done(failure);
  }
}
