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

/** What the proxy hands over; bodies as bytes, encoded only when served. */
export interface CaptureInput {
  id: number;
  reqPath: string;
  reqHeaders: Record<string, string>;
  reqBody: Uint8Array;
  respHeaders: Record<string, string>;
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

function sizeOf(c: CaptureInput): number {
  let n = c.reqBody.byteLength + c.respBody.byteLength + c.reqPath.length;
  for (const h of [c.reqHeaders, c.respHeaders]) for (const [k, v] of Object.entries(h)) n += k.length + v.length;
  return n;
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
      req_headers: c.reqHeaders,
      req_body: c.reqBody.toBase64(),
      resp_headers: c.respHeaders,
      resp_body: c.respBody.toBase64(),
    };
  }
}
