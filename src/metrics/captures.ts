/**
 * Request/response captures for the Activity page (`/api/captures/:id`),
 * in llama-swap's `ReqRespCapture` shape (bodies base64, as Go encodes
 * `[]byte`), kept within `captureBuffer` MB: the oldest go first. The web
 * UI reads `Capture` from here too, so this file uses no server-only API.
 */

/** llama-swap's capture, as served. */
export interface Capture {
  id: number;
  req_path: string;
  req_headers: Record<string, string>;
  /** base64 */
  req_body: string;
  resp_headers: Record<string, string>;
  /** base64 */
  resp_body: string;
}

/** Header fields as the proxy saw them; redacted and copied only when a capture is served. */
export type CapturedHeaders = Headers | Record<string, string>;

/** What the proxy hands over; bodies as bytes, encoded only when served. */
export interface CaptureInput {
  id: number;
  reqPath: string;
  reqHeaders: CapturedHeaders;
  reqBody: Uint8Array;
  respHeaders: CapturedHeaders;
  respBody: Uint8Array;
}

/** Headers whose values never reach a capture. */
const SECRET = new Set(["authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie", "api-key"]);

/** A header map with credentials replaced by `[REDACTED]`, as llama-swap does. */
export function redactHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [k, v] of entries) out[k] = SECRET.has(k.toLowerCase()) ? "[REDACTED]" : v;
  return out;
}

/**
 * What a capture is counted as against the budget: its bodies and path, plus
 * a flat allowance for the two header sets (walking them for every request
 * cost more than the capture itself; real header sets are well under it).
 */
export const HEADERS_ALLOWANCE = 1024;

/** The body is kept decoded, so its `content-encoding` would lie. */
function withoutEncoding(h: Record<string, string>): Record<string, string> {
  delete h["content-encoding"];
  return h;
}

function sizeOf(c: CaptureInput): number {
  return c.reqBody.byteLength + c.respBody.byteLength + c.reqPath.length + HEADERS_ALLOWANCE;
}

/**
 * Captures within a byte budget; a capture larger than the whole budget is not kept.
 *
 * @example
 * ```ts
 * const captures = new CaptureStore(5 * 1024 * 1024);
 * captures.add({ id: 1, reqPath: "/v1/chat/completions", reqHeaders: {}, reqBody, respHeaders: {}, respBody });
 * captures.get(1)?.resp_body; // base64
 * ```
 */
export class CaptureStore {
  readonly #max: number;
  readonly #items = new Map<number, { c: CaptureInput; size: number }>();
  #bytes = 0;
  /** Bytes requests still in flight hold towards their captures (`reserve`). */
  #pending = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** The budget in bytes. */
  get maxBytes(): number {
    return this.#max;
  }

  /** False when captures are off (budget 0). */
  get enabled(): boolean {
    return this.#max > 0;
  }

  /** Keeps `c`, dropping the oldest until it fits; false when it cannot fit at all. */
  add(c: CaptureInput): boolean {
    const size = sizeOf(c);
    if (size > this.#max) return false;
    this.#items.set(c.id, { c, size });
    this.#bytes += size;
    for (const [id, item] of this.#items) {
      if (this.#bytes <= this.#max) break;
      this.#items.delete(id);
      this.#bytes -= item.size;
    }
    return true;
  }

  /**
   * Takes `n` bytes of the budget for a capture still being collected (a
   * request in flight); false when the captures in flight already hold the
   * whole budget. Give them back with `release` when the request ends.
   */
  reserve(n: number): boolean {
    if (this.#pending + n > this.#max) return false;
    this.#pending += n;
    return true;
  }

  /** Gives back bytes taken by `reserve`. */
  release(n: number): void {
    this.#pending = Math.max(0, this.#pending - n);
  }

  /** Bytes requests in flight hold now (`reserve` minus `release`). */
  get pending(): number {
    return this.#pending;
  }

  has(id: number): boolean {
    return this.#items.has(id);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: number): Capture | null {
    const item = this.#items.get(id);
    if (item === undefined) return null;
    const { c } = item;
    return {
      id: c.id,
      req_path: c.reqPath,
      req_headers: redactHeaders(c.reqHeaders),
      req_body: c.reqBody.toBase64(),
      resp_headers: withoutEncoding(redactHeaders(c.respHeaders)),
      resp_body: c.respBody.toBase64(),
    };
  }
}
