/**
 * Request/response captures for the Activity page (`/api/captures/:id`),
 * in llama-swap's `ReqRespCapture` shape (bodies base64, as Go encodes
 * `[]byte`), kept in one ring of `captureBuffer` MB: the oldest go first. The web
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

/** Header fields as the proxy saw them; redacted and copied into the ring when a capture is kept. */
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
 * `redactHeaders` for the ring: `Headers.toJSON` (native, names lower-cased)
 * then the secret names replaced; ~1 µs for a request's two header sets.
 */
function redactedForRing(headers: CapturedHeaders): Record<string, string> {
  if (!(headers instanceof Headers)) return redactHeaders(headers);
  // Bun's Headers has toJSON; the web UI's type check (DOM types) does not know it.
  const out = (headers as Headers & { toJSON(): Record<string, string> }).toJSON();
  for (const name of SECRET) if (out[name] !== undefined) out[name] = "[REDACTED]";
  return out;
}

/** The body is kept decoded, so its `content-encoding` would lie. */
function withoutEncoding(h: Record<string, string>): Record<string, string> {
  delete h["content-encoding"];
  return h;
}

/** Per kept capture in the index: id, start in the ring, then the byte lengths of path, headers, request and response. */
const FIELDS = 6;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Captures in one ring of at most `maxBytes` (a resizable buffer made at the
 * first capture, grown as it fills), oldest overwritten first; a capture
 * larger than the whole ring is not kept. Each is stored as bytes: path,
 * headers (redacted) as JSON, request body, response body, with six numbers
 * in the index.
 *
 * Why a ring: kept as given (two `Headers`, two buffers, an object and a map
 * entry), a small chat capture cost ~2.7 KB of RSS while the budget counted
 * ~1.6 KB of it (a flat 1 KB for the headers); 10 MB of such captures are
 * now ~1.1 KB each, the ring plus ~50 B of index (measured, Bun 1.4.5).
 *
 * Invariants: ids arrive in increasing order (activity ids); the kept
 * captures lie in the ring in arrival order from the oldest's start to
 * `#write`, wrapping once (the end of the ring past a wrap is left unused).
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
  #buffer: ArrayBuffer | null = null;
  /** A length-tracking view of `#buffer`. */
  #ring: Uint8Array | null = null;
  /** The ring could not be allocated: nothing is kept. */
  #unavailable = false;
  /** FIELDS numbers per kept capture, oldest first from `#head`. */
  #index: number[] = [];
  #head = 0;
  /** Where the next capture goes. */
  #write = 0;
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
    if (c.reqBody.byteLength + c.respBody.byteLength > this.#max) return false;
    const path = encoder.encode(c.reqPath);
    // Redacted here, so no credential is ever held; the body is kept decoded, so its encoding would lie.
    const headers = encoder.encode(JSON.stringify([redactedForRing(c.reqHeaders), withoutEncoding(redactedForRing(c.respHeaders))]));
    const size = path.byteLength + headers.byteLength + c.reqBody.byteLength + c.respBody.byteLength;
    if (size > this.#max) return false;
    const ring = this.#ring ?? this.#allocate();
    if (ring === null) return false;
    if (this.#write + size > this.#max) {
      // Wrap: what lies past the write position is older than everything before it.
      while (this.#count() > 0 && this.#oldestStart() >= this.#write) this.#dropOldest();
      this.#write = 0;
    }
    // The oldest captures that start inside the new one's bytes go.
    while (this.#count() > 0 && this.#oldestStart() >= this.#write && this.#oldestStart() < this.#write + size) this.#dropOldest();
    this.#room(this.#write + size);
    let at = this.#write;
    for (const part of [path, headers, c.reqBody, c.respBody]) {
      ring.set(part, at);
      at += part.byteLength;
    }
    this.#index.push(c.id, this.#write, path.byteLength, headers.byteLength, c.reqBody.byteLength, c.respBody.byteLength);
    this.#write = at;
    this.#bytes += size;
    return true;
  }

  /**
   * The ring, made at the first capture as a resizable buffer of at most
   * `maxBytes` that grows with the write position (`#room`); null when it
   * cannot be had (a `captureBuffer` beyond what one buffer may hold).
   *
   * Why resizable: a plain `Uint8Array(maxBytes)` came from the allocator's
   * already-used memory in some runs and was zeroed there, so the whole
   * budget was resident from the first capture on (+10 MB after one request,
   * in 1 of 2 runs), and JSC counted all of it as heap from the start.
   */
  #allocate(): Uint8Array | null {
    if (this.#unavailable) return null;
    try {
      this.#buffer = new ArrayBuffer(0, { maxByteLength: this.#max });
    } catch {
      this.#unavailable = true; // why: a failed capture must never fail the request it belongs to
      return null;
    }
    this.#ring = new Uint8Array(this.#buffer); // length-tracking: follows each resize
    return this.#ring;
  }

  /** Grows the ring (doubling, at least 64 KiB, at most `maxBytes`) so that it holds `end` bytes. */
  #room(end: number): void {
    const buffer = this.#buffer!;
    if (end <= buffer.byteLength) return;
    buffer.resize(Math.min(this.#max, Math.max(end, buffer.byteLength * 2, 64 * 1024)));
  }

  #count(): number {
    return (this.#index.length - this.#head) / FIELDS;
  }

  #oldestStart(): number {
    return this.#index[this.#head + 1]!;
  }

  #dropOldest(): void {
    const i = this.#head;
    const idx = this.#index;
    this.#bytes -= idx[i + 2]! + idx[i + 3]! + idx[i + 4]! + idx[i + 5]!;
    this.#head += FIELDS;
    if (this.#head === idx.length) {
      this.#index = [];
      this.#head = 0;
    } else if (this.#head > 4096 * FIELDS && this.#head * 2 > idx.length) {
      // Compact now and then, so the dropped entries' slots do not grow without bound.
      this.#index = idx.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Position in `#index` of capture `id`, or -1 (binary search: ids increase). */
  #find(id: number): number {
    const idx = this.#index;
    let lo = 0;
    let hi = this.#count() - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.#head + mid * FIELDS;
      const v = idx[at]!;
      if (v === id) return at;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
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
    return this.#find(id) >= 0;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: number): Capture | null {
    const at = this.#find(id);
    const ring = this.#ring;
    if (at < 0 || ring === null) return null;
    const idx = this.#index;
    const start = idx[at + 1]!;
    const headAt = start + idx[at + 2]!;
    const reqAt = headAt + idx[at + 3]!;
    const respAt = reqAt + idx[at + 4]!;
    const respEnd = respAt + idx[at + 5]!;
    const [reqHeaders, respHeaders] = JSON.parse(decoder.decode(ring.subarray(headAt, reqAt))) as [Record<string, string>, Record<string, string>];
    return {
      id,
      req_path: decoder.decode(ring.subarray(start, headAt)),
      req_headers: reqHeaders,
      req_body: ring.subarray(reqAt, respAt).toBase64(),
      resp_headers: respHeaders,
      resp_body: ring.subarray(respAt, respEnd).toBase64(),
    };
  }
}
