/**
 * A pooled keep-alive HTTP/1.1 client over `Bun.connect`, for plain-HTTP
 * upstreams on the main thread's own event loop.
 *
 * Why not `fetch`: Bun's fetch runs every request on a separate HTTP thread
 * and hands each one across threads twice; for a local model server that
 * costs more CPU than the request itself (measured: a bare Bun proxy over
 * this client used ~0.55 of the CPU per request of the same proxy over fetch).
 * The answer is a standard `Response`: small bodies of known length whole
 * (bytes, no stream), everything else as a pull-based stream that pauses the
 * socket when the reader falls behind.
 */
import { type Conn, type ConnectOptions, type ConnUser, closeIdleConnections, connect, dropIdle, putIdle, takeIdle } from "./pool.ts";
import { type ResponseSink, ResponseParser, ResponseParseError } from "./response-parser.ts";

export { closeIdleConnections };

export interface Http1Init extends ConnectOptions {
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  /**
   * Called as the head of an answer that will be streamed arrives, before
   * any of its bytes: what watches the body from inside the one stream this
   * client hands out (a proxy's guard without a second stream), or null.
   */
  watchBody?: ((status: number, headers: Headers, out: BodyControl) => BodyWatcher | null) | undefined;
}

/** What sees a streamed body from inside its stream (see `Http1Init.watchBody`). */
export interface BodyWatcher {
  /** A chunk arrived and was queued for the reader (its own copy: it may be kept). */
  chunk(c: Uint8Array): void;
  /** The reader took every queued chunk and asks for more. */
  taken(): void;
  /** The reader took the last byte of a body that ended whole. */
  finished(): void;
  /** The body cannot end whole: the connection broke, the answer was malformed or the request aborted. */
  broke(error: unknown): void;
  /** The reader cancelled the body (the connection is closed). */
  cancelled(reason: unknown): void;
}

/** How a watcher ends the body itself. */
export interface BodyControl {
  /**
   * Ends the body: `last` (if any) queued after what the reader has not yet
   * taken, then the end; or, with `error`, the reader takes what was queued
   * and then gets `error`. A connection still carrying the answer is closed.
   */
  end(last: Uint8Array | null, error?: unknown): void;
  /** Stops reading from the upstream (the connection is closed, if it still carries the answer). */
  cancelSource(reason: unknown): void;
}

/** False when `MODELSWAP_UPSTREAM_CLIENT=fetch`: every request to a model server then goes through Bun's fetch (a fallback, read once). */
export const POOLED_CLIENT = process.env.MODELSWAP_UPSTREAM_CLIENT !== "fetch";

/** Bodies of at most this length (and not event streams) are read whole before the Response is handed out. */
export const WHOLE_BODY_LIMIT = 1024 * 1024;

/**
 * How long a connection that carried a streamed (chunked) answer waits before
 * it is reused (see `end`): far longer than the server's close takes to arrive
 * (under 1 ms on loopback), short enough that back-to-back streams find one
 * ready instead of opening a new connection each.
 */
export const CHUNKED_REUSE_WAIT_MS = 50;

/** What this client knows of each Response it handed out, by Response (see `wholeBody`, `forwardableHeaders`). */
const handedOut = new WeakMap<Response, { whole: Uint8Array | null; forwardable: Headers | null }>();

/**
 * The body of a Response this client read whole (a small answer of known
 * length), without reading it again; undefined for any other Response. Why:
 * the proxy would otherwise await `arrayBuffer()` on bytes already in hand,
 * copy them and run a read's guards (stall timer, drain registration) for
 * every small answer.
 */
export function wholeBody(res: Response): Uint8Array | undefined {
  return handedOut.get(res)?.whole ?? undefined;
}

/**
 * The header fields of a Response this client handed out, as received, when
 * none of them is connection-specific (`CONNECTION_FIELDS`): a Headers of the
 * caller's own to change and pass on (the Response holds its own copy), given
 * once; undefined otherwise. Why: a proxy copied every field into a new
 * Headers to drop fields that were never there (measured at 64 connections,
 * 2 × 10 alternating pairs without the copy: requests/s +3.9 and +1.9 %, p99
 * -11 and -19 %).
 */
export function forwardableHeaders(res: Response): Headers | undefined {
  const known = handedOut.get(res);
  const h = known?.forwardable ?? undefined;
  if (known !== undefined) known.forwardable = null;
  return h;
}

/** Bytes queued for a slow reader before the socket is paused. */
const READ_AHEAD = 64 * 1024;

/**
 * The body stream's strategy: counted in bytes, with a high-water mark of 0,
 * so `desiredSize` is minus the bytes queued and `pull` comes only when a
 * reader waits on an empty queue. The read-ahead is this client's own
 * (`READ_AHEAD`), not the stream's high-water mark: Bun sizes the buffer of
 * a response that sends the stream by that mark (measured with 6,000 open
 * streams: ~4 KB more per stream with a mark of 64 KiB than with 0).
 */
const BODY_STRATEGY: QueuingStrategy<Uint8Array> = { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 };

/** Whether the reader has taken every queued chunk. */
function drained(c: ReadableStreamDefaultController<Uint8Array>): boolean {
  return (c.desiredSize ?? 0) >= 0;
}

/** The error a reset connection rejects with; `code: "ECONNRESET"` as fetch's, so callers treat both alike. */
export class ConnectionReset extends Error {
  readonly code = "ECONNRESET";
}

/** One request and its response on one connection. */
class Exchange implements ResponseSink, ConnUser {
  readonly #conn: Conn;
  readonly #parser: ResponseParser;
  readonly #signal: AbortSignal;
  readonly #resolve: (r: Response) => void;
  readonly #reject: (e: unknown) => void;
  readonly #noBody: boolean;
  #chunked = false;
  #settled = false;
  #finished = false;
  #head: { status: number; statusText: string; headers: Headers } | null = null;
  /** The head's fields when none is connection-specific (see `forwardableHeaders`). */
  #forwardable: Headers | null = null;
  /** Body collected whole (small, known length). */
  #whole: Uint8Array | null = null;
  #wholeAt = 0;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #paused = false;

  readonly #watchBody: Http1Init["watchBody"];
  #watcher: BodyWatcher | null = null;
  /** The body ended whole while chunks were still queued: the watcher learns it once the reader took them. */
  #endPending = false;

  constructor(conn: Conn, method: string, signal: AbortSignal, resolve: (r: Response) => void, reject: (e: unknown) => void, watchBody?: Http1Init["watchBody"]) {
    this.#conn = conn;
    this.#parser = new ResponseParser(method, this);
    this.#signal = signal;
    this.#watchBody = watchBody;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#noBody = method.toUpperCase() === "HEAD";
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  received(chunk: Uint8Array): void {
    try {
      this.#parser.feed(chunk);
    } catch (error) {
      this.#fail(error instanceof ResponseParseError ? new Error(`Bad response from upstream: ${error.message}`) : error, true);
    }
  }

  peerClosed(error?: Error): void {
    if (this.#finished) return;
    try {
      if (error === undefined) this.#parser.eof();
      else throw error;
    } catch (e) {
      // Closed before any answer: as fetch, a reset (a reused socket the server was closing looks the same).
      const before = !this.#parser.started;
      const why = e instanceof Error ? e.message : String(e);
      this.#fail(before ? new ConnectionReset(`The socket connection was closed: ${why}`) : new Error(`Upstream connection failed: ${why}`), true);
    }
  }

  head(status: number, statusText: string, headers: Headers, connectionFields: boolean): void {
    this.#head = { status, statusText, headers };
    if (!connectionFields) this.#forwardable = headers;
    this.#chunked = headers.get("transfer-encoding") !== null;
    // No body follows (the parser ends the response next): `end` hands out a bodiless Response.
    if (this.#noBody || status === 204 || status === 304) return;
    const length = Number(headers.get("content-length") ?? NaN);
    const eventStream = (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
    if (Number.isInteger(length) && length > 0 && length <= WHOLE_BODY_LIMIT && !eventStream && headers.get("transfer-encoding") === null) {
      this.#whole = new Uint8Array(length);
      return;
    }
    if (length === 0) return;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#controller = c;
        },
        // Comes only when a reader waits on an empty queue (BODY_STRATEGY): every queued chunk was taken.
        pull: (c) => {
          // The reader has taken every chunk that arrived before the connection broke: now it learns why.
          if (this.#lateError !== null) {
            c.error(this.#lateError.error);
            return;
          }
          if (this.#endPending) {
            this.#endPending = false;
            c.close();
            this.#watcher?.finished();
            return;
          }
          this.#watcher?.taken();
          // Once the answer is over the connection may carry another: its pauses are not ours to undo.
          if (this.#paused && !this.#finished) {
            this.#paused = false;
            this.#conn.socket?.resume();
          }
        },
        cancel: (reason) => {
          this.#abandon();
          this.#watcher?.cancelled(reason);
        },
      },
      BODY_STRATEGY,
    );
    if (this.#watchBody !== undefined) this.#watcher = this.#watchBody(status, headers, this.#bodyControl());
    this.#settle(new Response(body, this.#init()));
  }

  /** How the watcher ends the body (see `BodyControl`); made only for a watched body, not for every exchange. */
  #bodyControl(): BodyControl {
    return {
      end: (last, error) => {
        this.#endPending = false;
        this.#abandon();
        const c = this.#controller;
        if (c === null) return;
        if (error !== undefined) this.#errorBody(error, true);
        else {
          if (last !== null) c.enqueue(last);
          c.close();
        }
      },
      cancelSource: () => this.#abandon(),
    };
  }

  /** Gives up the answer: a connection still carrying it is closed (one that already went back to the pool is not). */
  #abandon(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#drop();
  }

  data(bytes: Uint8Array): void {
    if (this.#whole !== null) {
      this.#whole.set(bytes, this.#wholeAt);
      this.#wholeAt += bytes.length;
      return;
    }
    const c = this.#controller;
    if (c === null) return;
    // The socket's buffer is not ours to keep.
    const own = bytes.slice();
    c.enqueue(own);
    this.#watcher?.chunk(own);
    if (!this.#paused && -(c.desiredSize ?? 0) > READ_AHEAD) {
      this.#paused = true;
      this.#conn.socket?.pause();
    }
  }

  end(reusable: boolean): void {
    this.#finished = true;
    this.#signal.removeEventListener("abort", this.#onAbort);
    const c = this.#controller;
    if (!this.#settled) {
      this.#settle(new Response(this.#whole ?? null, this.#init()), this.#whole);
    } else if (this.#watcher !== null && c !== null && !drained(c)) {
      this.#endPending = true; // the reader's last pull closes it, and tells the watcher (see the stream's pull)
    } else {
      c?.close();
      this.#watcher?.finished();
    }
    if (reusable && !this.#conn.closed && this.#conn.out.length === 0) {
      if (this.#paused) this.#conn.socket?.resume();
      // After a streamed (chunked) answer llama-server (cpp-httplib) closes the socket although its headers
      // announced keep-alive (measured: 0.01-0.45 ms after the terminal chunk, 10 of 10), and a request sent
      // in between failed before any answer. So such a connection waits before it is reused: by then the
      // server's close has arrived and been handled (the connection left the pool), or there was none.
      putIdle(this.#conn, this.#chunked ? CHUNKED_REUSE_WAIT_MS : 0);
    } else {
      this.#drop();
    }
  }

  #init(): ResponseInit {
    const h = this.#head!;
    return { status: h.status, statusText: h.statusText, headers: h.headers };
  }

  #settle(r: Response, whole: Uint8Array | null = null): void {
    this.#settled = true;
    if (whole !== null || this.#forwardable !== null) handedOut.set(r, { whole, forwardable: this.#forwardable });
    this.#resolve(r);
  }

  readonly #onAbort = (): void => {
    this.#fail(this.#signal.reason);
  };

  /** A broken connection's error, held until the reader took the chunks queued before it (see `#fail`). */
  #lateError: { error: unknown } | null = null;

  /**
   * Ends the exchange with `error`. An abort errors the body at once; a
   * broken connection (`afterQueued`) first lets the reader take what
   * arrived before it: erroring a stream discards its queued chunks, and the
   * tokens a model sent before it crashed must still reach the client.
   */
  #fail(error: unknown, afterQueued = false): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#signal.removeEventListener("abort", this.#onAbort);
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(error);
    } else if (this.#watcher !== null) this.#watcher.broke(error);
    else this.#errorBody(error, afterQueued);
    this.#drop();
  }

  /** Errors the body: at once, or (`afterQueued`) once the reader took what was queued. */
  #errorBody(error: unknown, afterQueued: boolean): void {
    if (afterQueued && this.#controller !== null && !drained(this.#controller)) {
      this.#lateError = { error };
      return;
    }
    try {
      this.#controller?.error(error);
    } catch {
      // The reader is already gone.
    }
  }

  #drop(): void {
    this.#conn.exchange = null;
    this.#conn.closed = true;
    dropIdle(this.#conn);
    this.#conn.socket?.terminate();
  }
}


const encoder = new TextEncoder();

/** The request head: method, path, Host, our own Content-Length, then the caller's headers. */
function requestHead(method: string, path: string, host: string, headers: Headers, body: Uint8Array | null): Uint8Array {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  if (body !== null || (method !== "GET" && method !== "HEAD")) head += `content-length: ${body?.length ?? 0}\r\n`;
  for (const [k, v] of headers) {
    const key = k.toLowerCase();
    if (key === "host" || key === "content-length" || key === "transfer-encoding" || key === "connection") continue;
    if (/[\r\n]/.test(v)) continue;
    head += `${k}: ${v}\r\n`;
  }
  return encoder.encode(`${head}\r\n`);
}

/**
 * Sends one request over a pooled connection to `url` (http: only) and
 * resolves with the response once its head (or, for a small body of known
 * length, the whole body) arrived. Rejects with `ConnectionReset` when a
 * reused connection closed before any answer (the request may or may not
 * have been read), with `signal.reason` on abort, or with an Error otherwise.
 *
 * @example
 * ```ts
 * const res = await http1Fetch(new URL("http://127.0.0.1:8080/health"), { method: "GET", headers: new Headers(), body: null, signal });
 * ```
 */
export function http1Fetch(url: URL, init: Http1Init): Promise<Response> {
  if (init.signal.aborted) return Promise.reject(init.signal.reason);
  const origin = url.host;
  // Not an async function: a pooled connection (the usual case) sends at once, with no promise in between.
  const idle = takeIdle(origin);
  if (idle !== null) return sendOn(idle, url, init);
  const port = Number(url.port || 80);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return connect(origin, hostname, port, init).then((conn) => {
    if (init.signal.aborted) {
      conn.closed = true;
      conn.socket?.terminate();
      throw init.signal.reason;
    }
    return sendOn(conn, url, init);
  });
}

/** Sends the request on `conn` and resolves with its response (see `http1Fetch`). */
function sendOn(conn: Conn, url: URL, init: Http1Init): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    conn.exchange = new Exchange(conn, init.method, init.signal, resolve, reject, init.watchBody);
    const head = requestHead(init.method, url.pathname + url.search, url.host, init.headers, init.body);
    const body = init.body;
    if (body !== null && body.length > 0 && body.length <= 16 * 1024) {
      // One write, one packet for a typical JSON request.
      const both = new Uint8Array(head.length + body.length);
      both.set(head);
      both.set(body, head.length);
      conn.write(both);
    } else {
      conn.write(head);
      if (body !== null && body.length > 0) conn.write(body);
    }
  });
}
