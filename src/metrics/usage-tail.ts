/**
 * What a streamed answer's Activity row needs from its bytes, kept small
 * while it streams: an open stream must cost (almost) nothing here, since a
 * proxy may hold 10,000 of them.
 *
 * Bug prevented: the last 16 KB of every stream was kept as chunk references
 * (~64 SSE chunks and their objects, 16-20 KB per open stream), to find one
 * usage event at the end.
 */
import { JSON_TAIL_BYTES, type ParsedTokens, tokensFromJson, tokensFromSseTail } from "./tokens.ts";
import { tokensFromJsonTailBytes } from "./json-usage.ts";

/** Collects the bytes tokens are read from at the end; `push` is the per-chunk work. */
export interface UsageTail {
  /** Every byte seen, for the activity row and `bytes sent`. */
  readonly total: number;
  push(chunk: Uint8Array): void;
  /** The kept text. */
  text(): string;
  /** The token counts read from the kept text by the parser that fits what was kept, or null when none were found. */
  tokens(): ParsedTokens | null;
}

const decoder = new TextDecoder();

/** Buffer's native byte search, on any Uint8Array (no Buffer view to make, no decode: ~0.2 µs a chunk). */
const indexOfBytes = Buffer.prototype.indexOf as (this: Uint8Array, value: string) => number;

/** The keys of the events tokens are read from (`tokens.ts`): usage (OpenAI, Anthropic, Responses) and llama-server's timings. */
const KEYS = ['"usage"', '"timings"'];

const LF = 10;
const CR = 13;

/**
 * An SSE stream: keeps only the events that mention usage or timings (the
 * last `keep` of them) and the pieces of the event being received. Per chunk
 * the work is a byte search; a chunk is decoded only when it holds a key or
 * ends an event that began in an earlier chunk. A steady token stream keeps
 * nothing between chunks.
 *
 * @example
 * ```ts
 * const t = new SseUsageTail();
 * t.push(bytes('data: {"choices":[]}\n\n'));
 * t.push(bytes('data: {"usage":{"prompt_tokens":3,"completion_tokens":9}}\n\n'));
 * t.tokens(); // 3 in, 9 out
 * ```
 */
export class SseUsageTail implements UsageTail {
  total = 0;
  /** Pieces of the event being received (usually none: upstreams send whole events). */
  #cur: Uint8Array[] = [];
  #curBytes = 0;
  /** The last two bytes seen, for a blank line split between chunks. */
  #prev1 = -1;
  #prev2 = -1;
  /** Completed events that mention a key, oldest first. */
  #kept: string[] = [];
  readonly #keep: number;
  readonly #maxEvent: number;

  /** `keep` events at most (Anthropic sends usage twice); an event longer than `maxEvent` bytes is not kept. */
  constructor(keep = 8, maxEvent = 64 * 1024) {
    this.#keep = keep;
    this.#maxEvent = maxEvent;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (n === 0) return;
    this.total += n;
    const end = this.#lastEventEnd(chunk);
    this.#prev2 = n > 1 ? chunk[n - 2]! : this.#prev1;
    this.#prev1 = chunk[n - 1]!;
    if (end < 0) {
      this.#hold(chunk);
      return;
    }
    if (this.#cur.length > 0 || KEYS.some((k) => indexOfBytes.call(chunk, k) >= 0)) {
      // A key may sit in this chunk's events, or in an event begun earlier (split anywhere, even inside a key).
      const pieces = this.#cur;
      pieces.push(end === n ? chunk : chunk.subarray(0, end));
      this.#keepEvents(pieces.map((p) => decoder.decode(p, { stream: true })).join("") + decoder.decode());
    }
    this.#cur = [];
    this.#curBytes = 0;
    if (end < n) this.#hold(chunk.subarray(end));
  }

  text(): string {
    const partial = this.#cur.map((p) => decoder.decode(p, { stream: true })).join("") + decoder.decode();
    return this.#kept.map((e) => `${e}\n\n`).join("") + partial;
  }

  tokens(): ParsedTokens | null {
    return tokensFromSseTail(this.text());
  }

  /** Keeps a piece of the event being received; an event too long to keep is dropped (its rest cannot parse, and is skipped). */
  #hold(piece: Uint8Array): void {
    this.#curBytes += piece.byteLength;
    if (this.#curBytes <= this.#maxEvent) this.#cur.push(piece);
    else this.#cur = [];
  }

  #keepEvents(text: string): void {
    for (const event of text.split(/\r?\n\r?\n/)) {
      if (event.length > this.#maxEvent || !KEYS.some((k) => event.includes(k))) continue;
      this.#kept.push(event);
      if (this.#kept.length > this.#keep) this.#kept.shift();
    }
  }

  /** Where the last complete event ends in `chunk` (just after its blank line: `\n\n` or `\n\r\n`, maybe begun in the previous chunk), or -1. */
  #lastEventEnd(chunk: Uint8Array): number {
    for (let i = chunk.lastIndexOf(LF); i >= 0; i = i > 0 ? chunk.lastIndexOf(LF, i - 1) : -1) {
      const b1 = i >= 1 ? chunk[i - 1]! : this.#prev1;
      const b2 = i >= 2 ? chunk[i - 2]! : i === 1 ? this.#prev1 : this.#prev2;
      if (b1 === LF || (b1 === CR && b2 === LF)) return i + 1;
    }
    return -1;
  }
}

/**
 * Any other streamed body: kept whole while it is at most `max` bytes, since
 * only a whole JSON document parses; past that only its last `max` bytes or
 * a little more (whole chunks), where usage and timings come
 * (`tokensFromJsonTailBytes`).
 *
 * @example
 * ```ts
 * const t = new BodyUsageTail();
 * t.push(bytes('{"usage":{"prompt_tokens":1,"completion_tokens":2}}'));
 * t.tokens(); // 1 in, 2 out
 * ```
 */
export class BodyUsageTail implements UsageTail {
  total = 0;
  #chunks: Uint8Array[] = [];
  /** Bytes in `#chunks`. */
  #kept = 0;
  readonly #max: number;

  constructor(max = JSON_TAIL_BYTES) {
    this.#max = max;
  }

  /** Whether `text()` is the whole body (else its end only). */
  get complete(): boolean {
    return this.#kept === this.total;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    this.#chunks.push(chunk);
    this.#kept += chunk.byteLength;
    // Drop from the front while what stays still covers the last `max` bytes.
    while (this.#chunks.length > 1 && this.#kept - this.#chunks[0]!.byteLength >= this.#max) this.#kept -= this.#chunks.shift()!.byteLength;
  }

  text(): string {
    return decoder.decode(this.#bytes());
  }

  tokens(): ParsedTokens | null {
    return this.complete ? tokensFromJson(this.text()) : tokensFromJsonTailBytes(this.#bytes());
  }

  /** The kept bytes as one array. */
  #bytes(): Uint8Array {
    return Bun.concatArrayBuffers(this.#chunks, this.#kept, true);
  }
}
