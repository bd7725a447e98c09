/**
 * What a streamed answer's Activity row needs from its bytes, kept small
 * while it streams: an open stream must cost (almost) nothing here, since a
 * proxy may hold 10,000 of them.
 *
 * Bug prevented: the last 16 KB of every stream was kept as chunk references
 * (~64 SSE chunks and their objects, 16-20 KB per open stream), to find one
 * usage event at the end.
 */

/** Collects the bytes tokens are read from at the end; `push` is the per-chunk work. */
export interface UsageTail {
  /** Every byte seen, for the activity row and `bytes sent`. */
  readonly total: number;
  push(chunk: Uint8Array): void;
  /** The kept text, for `tokensFromSseTail` or `tokensFromJson`. */
  text(): string;
}

const decoder = new TextDecoder();

/** The keys of the events tokens are read from (`tokens.ts`): usage (OpenAI, Anthropic, Responses) and llama-server's timings. */
const KEYS = ['"usage"', '"timings"'];

/** Where the last complete event of `text` ends (just after its blank line), or -1. */
function lastEventEnd(text: string): number {
  const lf = text.lastIndexOf("\n\n");
  const crlf = text.lastIndexOf("\n\r\n");
  return Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 3);
}

/**
 * An SSE stream: keeps only the events that mention usage or timings (the
 * last `keep` of them) and the event being received. A steady token stream
 * keeps nothing between chunks.
 *
 * @example
 * ```ts
 * const t = new SseUsageTail();
 * t.push(bytes('data: {"choices":[]}\n\n'));
 * t.push(bytes('data: {"usage":{"prompt_tokens":3,"completion_tokens":9}}\n\n'));
 * tokensFromSseTail(t.text()); // 3 in, 9 out
 * ```
 */
export class SseUsageTail implements UsageTail {
  total = 0;
  /** Text since the last event boundary (usually empty: upstreams send whole events). */
  #partial = "";
  /** Completed events that mention a key, oldest first. */
  #kept: string[] = [];
  readonly #keep: number;
  readonly #maxEvent: number;

  /** `keep` events at most (Anthropic sends usage twice); an event longer than `maxEvent` characters is not kept. */
  constructor(keep = 8, maxEvent = 64 * 1024) {
    this.#keep = keep;
    this.#maxEvent = maxEvent;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    const text = this.#partial + decoder.decode(chunk);
    const end = lastEventEnd(text);
    if (end < 0) {
      // An event too long to keep is dropped; its rest (after the cut) cannot parse and is skipped.
      this.#partial = text.length <= this.#maxEvent ? text : "";
      return;
    }
    this.#partial = text.length - end <= this.#maxEvent ? text.slice(end) : "";
    if (!KEYS.some((k) => text.includes(k))) return;
    for (const event of text.slice(0, end).split(/\r?\n\r?\n/)) {
      if (event.length > this.#maxEvent || !KEYS.some((k) => event.includes(k))) continue;
      this.#kept.push(event);
      if (this.#kept.length > this.#keep) this.#kept.shift();
    }
  }

  text(): string {
    return this.#kept.map((e) => `${e}\n\n`).join("") + this.#partial;
  }
}

/**
 * Any other streamed body: kept whole while it is at most `max` bytes, since
 * only a whole JSON document parses; past that it keeps nothing.
 *
 * @example
 * ```ts
 * const t = new BodyUsageTail();
 * t.push(bytes('{"usage":{"prompt_tokens":1,"completion_tokens":2}}'));
 * tokensFromJson(t.text());
 * ```
 */
export class BodyUsageTail implements UsageTail {
  total = 0;
  #chunks: Uint8Array[] | null = [];
  readonly #max: number;

  constructor(max = 16 * 1024) {
    this.#max = max;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    if (this.#chunks === null) return;
    if (this.total <= this.#max) this.#chunks.push(chunk);
    else this.#chunks = null;
  }

  text(): string {
    if (this.#chunks === null) return "";
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return decoder.decode(out);
  }
}
