/**
 * One proxied request on its way to becoming an Activity row. The proxy
 * calls `firstByte`, `chunk` (streams) or `body` (answers read whole), then
 * `finish` exactly once; the work per chunk is a length count and a
 * reference kept (the stream tail, and the capture while it fits). Tokens
 * are parsed once, at the end, from the whole small body or the stream's tail.
 */
import type { MetricsHub } from "./metrics-hub.ts";
import type { ActivityEntry } from "./activity.ts";
import { noTokens, type ParsedTokens, StreamTail, tokensFromJson, tokensFromSseTail } from "./tokens.ts";

export interface RecordInit {
  model: string;
  path: string;
  /** `performance.now()` when the request arrived. */
  started: number;
  /** Wall time (ms) when the request arrived. */
  time: number;
  /** The request as forwarded, for the capture (only read when captures are on). */
  reqHeaders: Headers;
  reqBody: Uint8Array | string | null;
}

const decoder = new TextDecoder();

/** llama-swap's error text for a failed answer: the body's error message, else the status. */
export function errorMessage(status: number, body: string): string {
  try {
    const o = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    for (const v of [typeof o.error === "object" ? o.error?.message : undefined, o.error, o.message, o.detail]) {
      if (typeof v === "string" && v.trim() !== "") return v.trim().slice(0, 500);
    }
  } catch {
    // not JSON
  }
  return `HTTP ${status}`;
}

/**
 * Collects what one request's Activity row needs.
 *
 * @example
 * ```ts
 * const rec = new RequestRecord(hub, { model, path, started: performance.now(), time: Date.now(), reqHeaders, reqBody });
 * rec.response(upstream.status, upstream.headers);
 * rec.chunk(bytes); // per chunk of a stream
 * rec.finish(null);  // once
 * ```
 */
export class RequestRecord {
  readonly #hub: MetricsHub;
  readonly #init: RecordInit;
  /** The row's model; a selector's request learns it once the scheduler chose. */
  model: string;
  #ttfb = -1;
  #status = 0;
  #contentType = "";
  #respHeaders: Headers | null = null;
  readonly #tail = new StreamTail();
  /** Whole body of a small answer, or the stream's chunks while they fit the capture budget. */
  #whole: Uint8Array | null = null;
  #chunks: Uint8Array[] | null;
  #chunkBytes = 0;
  #done = false;

  constructor(hub: MetricsHub, init: RecordInit) {
    this.#hub = hub;
    this.#init = init;
    this.model = init.model;
    this.#chunks = hub.captures.enabled ? [] : null;
  }

  /** The upstream answered: its status and headers. */
  response(status: number, headers: Headers): void {
    this.#status = status;
    this.#contentType = headers.get("content-type") ?? "";
    this.#respHeaders = headers;
  }

  /** A status modelswap answered itself (no upstream answer: 502, 503, 499, ...). */
  status(status: number): void {
    this.#status = status;
  }

  /** One chunk of a streamed body passed to the client. */
  chunk(c: Uint8Array): void {
    if (this.#ttfb < 0) this.#ttfb = performance.now() - this.#init.started;
    this.#tail.push(c);
    if (this.#chunks !== null) {
      this.#chunkBytes += c.byteLength;
      if (this.#chunkBytes <= this.#hub.captures.maxBytes) this.#chunks.push(c);
      else this.#chunks = null;
    }
  }

  /** The whole body of an answer read at once. */
  body(b: Uint8Array): void {
    if (this.#ttfb < 0) this.#ttfb = performance.now() - this.#init.started;
    this.#whole = b;
    this.#tail.total = b.byteLength;
  }

  /** Listeners of the finished row (the request log line). */
  readonly #onFinish: Array<(e: ActivityEntry) => void> = [];

  /** Runs `f` with the row once the record finishes. */
  onFinish(f: (e: ActivityEntry) => void): void {
    this.#onFinish.push(f);
  }

  /** `finish`, as the proxy's observer calls it. */
  end(error: string | null): void {
    this.finish(error);
  }

  /** Ends the record (once; later calls are ignored): `error` is why the exchange failed, or null. */
  finish(error: string | null): ActivityEntry | null {
    if (this.#done) return null;
    this.#done = true;
    const duration = performance.now() - this.#init.started;
    const ok = this.#status >= 200 && this.#status < 300;
    let parsed: ParsedTokens | null = null;
    let errorMsg = error;
    if (this.#whole !== null) {
      const text = decoder.decode(this.#whole);
      if (ok) parsed = tokensFromJson(text);
      else errorMsg ??= errorMessage(this.#status, text);
    } else if (this.#tail.total > 0 && ok) {
      parsed = this.#contentType.includes("text/event-stream") ? tokensFromSseTail(this.#tail.text()) : tokensFromJson(this.#tail.text());
    }
    if (errorMsg === null && !ok) errorMsg = `HTTP ${this.#status}`;
    const row = {
      timestamp: new Date(this.#init.time).toISOString(),
      model: this.model,
      req_path: this.#init.path,
      resp_content_type: this.#contentType,
      resp_status_code: this.#status,
      tokens: parsed?.tokens ?? noTokens(),
      duration_ms: Math.round(Math.max(duration, parsed?.timingsMs ?? 0)),
      ttfb_ms: Math.round(this.#ttfb < 0 ? duration : this.#ttfb),
      bytes: this.#tail.total,
      ...(errorMsg === null ? {} : { error_msg: errorMsg }),
    };
    const entry = this.#hub.record(row, this.#capture(ok));
    for (const f of this.#onFinish) {
      try {
        f(entry);
      } catch {
        // A listener's failure must not lose the row.
      }
    }
    return entry;
  }

  #capture(ok: boolean) {
    if (!this.#hub.captures.enabled) return undefined;
    let resp: Uint8Array = new Uint8Array(0);
    if (ok && this.#whole !== null) resp = this.#whole;
    else if (ok && this.#chunks !== null) resp = Bun.concatArrayBuffers(this.#chunks, this.#chunkBytes, true);
    const body = this.#init.reqBody;
    const reqBody = body === null ? new Uint8Array(0) : typeof body === "string" ? new TextEncoder().encode(body) : body;
    return { reqPath: this.#init.path, reqHeaders: this.#init.reqHeaders, reqBody, respHeaders: this.#respHeaders ?? {}, respBody: resp };
  }
}
