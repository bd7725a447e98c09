/**
 * One proxied request on its way to becoming an Activity row. The proxy
 * calls `response`, `chunk` (streams) or `body` (answers read whole), then
 * `finish` exactly once; the work per chunk is a length count, a byte search
 * (`usage-tail.ts`) and, while the capture fits its budget, a reference kept.
 * Tokens are parsed once, at the end. A record lives as long as its stream,
 * so it keeps the request (headers, body) and the response headers only when
 * it is collecting a capture.
 */
import type { MetricsHub } from "./metrics-hub.ts";
import type { ActivityEntry } from "./activity.ts";
import { noTokens, type ParsedTokens } from "./tokens.ts";
import { tokensFromJsonBody } from "./json-usage.ts";
import { BodyUsageTail, SseUsageTail, type UsageTail } from "./usage-tail.ts";

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

/** Records that ended in the current task, finished together after it (`RequestRecord.end`). */
let endedRecords: { record: RequestRecord; error: string | null; ended: number }[] = [];

function finishEnded(): void {
  const list = endedRecords;
  endedRecords = [];
  for (const e of list) e.record.finish(e.error, e.ended);
}

/** The last wall time (ms) `isoTime` formatted, and its text: under load several rows arrive in one millisecond. */
let isoAt = Number.NaN;
let isoText = "";

/** `new Date(ms).toISOString()`, formatted once per millisecond. */
function isoTime(ms: number): string {
  if (ms !== isoAt) {
    isoText = new Date(ms).toISOString();
    isoAt = ms;
  }
  return isoText;
}

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
  readonly #path: string;
  readonly #started: number;
  readonly #time: number;
  /** The request as forwarded and the upstream's headers: kept only for a capture. */
  #reqHeaders: Headers | null = null;
  #reqBody: Uint8Array | string | null = null;
  /** The row's model; a selector's request learns it once the scheduler chose. */
  model: string;
  #ttfb = -1;
  #status = 0;
  #contentType = "";
  #respHeaders: Headers | null = null;
  /** Made at the first chunk, by the content type then known. */
  #tail: UsageTail | null = null;
  #bytes = 0;
  /** Whole body of a small answer, or the stream's chunks while they fit the capture budget. */
  #whole: Uint8Array | null = null;
  #chunks: Uint8Array[] | null = null;
  #chunkBytes = 0;
  /** This request gets a capture (captures are on, and its request body fit the budget). */
  #capturing = false;
  /** Bytes this record holds of the captures' budget (`CaptureStore.reserve`), given back at `finish`. */
  #reserved = 0;
  #done = false;

  constructor(hub: MetricsHub, init: RecordInit) {
    this.#hub = hub;
    this.#path = init.path;
    this.#started = init.started;
    this.#time = init.time;
    this.model = init.model;
    if (!hub.captures.enabled) return;
    // What a capture holds while its request is in flight counts against the same budget as the kept
    // captures. Bug prevented: every open stream kept its request body and every chunk (up to the whole
    // budget each), so 10,000 open streams held gigabytes for captures that could never all be kept.
    const body = init.reqBody;
    const size = body === null ? 0 : typeof body === "string" ? body.length : body.byteLength;
    if (!this.#reserve(size)) return;
    this.#capturing = true;
    this.#chunks = [];
    this.#reqHeaders = init.reqHeaders;
    this.#reqBody = body;
  }

  #reserve(n: number): boolean {
    if (!this.#hub.captures.reserve(n)) return false;
    this.#reserved += n;
    return true;
  }

  /** The upstream answered: its status and headers. */
  response(status: number, headers: Headers): void {
    this.#status = status;
    this.#contentType = headers.get("content-type") ?? "";
    if (this.#capturing) this.#respHeaders = headers;
  }

  /** A status modelswap answered itself (no upstream answer: 502, 503, 499, ...). */
  status(status: number): void {
    this.#status = status;
  }

  /** One chunk of a streamed body passed to the client. */
  chunk(c: Uint8Array): void {
    if (this.#ttfb < 0) this.#ttfb = performance.now() - this.#started;
    this.#bytes += c.byteLength;
    this.#tail ??= this.#sse() ? new SseUsageTail() : new BodyUsageTail();
    this.#tail.push(c);
    if (this.#chunks !== null) {
      this.#chunkBytes += c.byteLength;
      if (this.#reserve(c.byteLength)) this.#chunks.push(c);
      else this.#chunks = null; // the capture keeps the request only
    }
  }

  /** The whole body of an answer read at once. */
  body(b: Uint8Array): void {
    if (this.#ttfb < 0) this.#ttfb = performance.now() - this.#started;
    this.#whole = b;
    this.#bytes = b.byteLength;
  }

  /** Listeners of the finished row (the request log line). */
  readonly #onFinish: Array<(e: ActivityEntry) => void> = [];

  /** Runs `f` with the row once the record finishes. */
  onFinish(f: (e: ActivityEntry) => void): void {
    this.#onFinish.push(f);
  }

  /**
   * `finish`, as the proxy's observer calls it: the exchange ends now, its row
   * is built after the current task. Why: the row (token count, capture,
   * metrics, the request log line) was built before a small answer was handed
   * to Bun, so every request waited for it (measured, 1 connection, 6
   * alternating pairs: p50 0.192 → 0.162 ms, req/s +17 %).
   */
  end(error: string | null): void {
    // One immediate for every record that ends in this task (under load, many), not one each.
    if (endedRecords.push({ record: this, error, ended: performance.now() }) === 1) setImmediate(finishEnded);
  }

  /**
   * Ends the record (once; later calls are ignored): `error` is why the
   * exchange failed, or null; `ended` is when (`performance.now()`, default now).
   */
  finish(error: string | null, ended: number = performance.now()): ActivityEntry | null {
    if (this.#done) return null;
    this.#done = true;
    const duration = ended - this.#started;
    const ok = this.#status >= 200 && this.#status < 300;
    let parsed: ParsedTokens | null = null;
    let errorMsg = error;
    if (this.#whole !== null) {
      if (ok) parsed = tokensFromJsonBody(this.#whole);
      else errorMsg ??= errorMessage(this.#status, decoder.decode(this.#whole));
    } else if (this.#tail !== null && ok) {
      parsed = this.#tail.tokens();
    }
    if (errorMsg === null && !ok) errorMsg = `HTTP ${this.#status}`;
    // Made with `id` and `has_capture` in it (set by the log): the row is kept as it is, with no copy.
    const row: ActivityEntry = {
      id: 0,
      timestamp: isoTime(this.#time),
      model: this.model,
      req_path: this.#path,
      resp_content_type: this.#contentType,
      resp_status_code: this.#status,
      tokens: parsed?.tokens ?? noTokens(),
      duration_ms: Math.round(Math.max(duration, parsed?.timingsMs ?? 0)),
      ttfb_ms: Math.round(this.#ttfb < 0 ? duration : this.#ttfb),
      bytes: this.#bytes,
      has_capture: false,
    };
    if (errorMsg !== null) row.error_msg = errorMsg;
    const capture = this.#capture(ok);
    this.#hub.captures.release(this.#reserved);
    this.#reserved = 0;
    this.#chunks = null;
    const entry = this.#hub.record(row, capture);
    for (const f of this.#onFinish) {
      try {
        f(entry);
      } catch {
        // A listener's failure must not lose the row.
      }
    }
    return entry;
  }

  #sse(): boolean {
    return this.#contentType.includes("text/event-stream");
  }

  #capture(ok: boolean) {
    if (!this.#capturing) return undefined;
    let resp: Uint8Array = new Uint8Array(0);
    if (ok && this.#whole !== null) resp = this.#whole;
    else if (ok && this.#chunks !== null) resp = Bun.concatArrayBuffers(this.#chunks, this.#chunkBytes, true);
    const body = this.#reqBody;
    const reqBody = body === null ? new Uint8Array(0) : typeof body === "string" ? new TextEncoder().encode(body) : body;
    return { reqPath: this.#path, reqHeaders: this.#reqHeaders ?? {}, reqBody, respHeaders: this.#respHeaders ?? {}, respBody: resp };
  }
}
