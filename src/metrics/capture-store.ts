/**
 * The captures kept for `/api/captures/:id`, within `captureBuffer` MB of
 * their bytes: the oldest go first. Each capture is stored as its path,
 * header fields (`encodedHead`), request body and response body, one after
 * the other; captures are gathered in a 64 KiB block, and a full block is
 * compressed (zstd, level 1) and kept with the offsets of its captures.
 *
 * Why blocks: the captures of one model look alike (the same header fields,
 * the same JSON around different text), so a block shrinks many times over,
 * where one capture alone shrinks ~1.7 × at 12 µs. Kept raw in one ring, 5 MB
 * of captures held 5 MB of RSS for good after a burst; a block of the
 * benchmark's chat captures compresses 84 × in ~50 µs (~0.6 µs a capture),
 * and the budget still counts the captures' own bytes, so as many are kept as
 * before and llama-swap's `captureBuffer` means what it meant. A capture of
 * a block's size or more is kept as it is, alone: compressing megabytes would
 * hold up the main thread for milliseconds.
 */
import { type Capture, type CaptureInput, encodedHead } from "./captures.ts";

/** Captures are gathered up to this many bytes before their block is compressed. */
export const BLOCK_BYTES = 64 * 1024;

/** Where one capture lies in its block's bytes. */
interface Entry {
  id: number;
  offset: number;
  pathBytes: number;
  headerBytes: number;
  reqBytes: number;
  respBytes: number;
}

/** A closed block: its bytes (compressed, unless it holds one large capture) and its captures, oldest first from `first`. */
interface Block {
  data: Uint8Array;
  compressed: boolean;
  entries: Entry[];
  /** Entries before this one were dropped (the block goes when all are). */
  first: number;
}

const size = (e: Entry) => e.pathBytes + e.headerBytes + e.reqBytes + e.respBytes;
const decoder = new TextDecoder();

/**
 * @example
 * ```ts
 * const captures = new CaptureStore(5 * 1024 * 1024);
 * captures.add({ id: 1, reqPath: "/v1/chat/completions", reqHeaders: {}, reqBody, respHeaders: {}, respBody });
 * captures.get(1)?.resp_body; // base64
 * ```
 */
export class CaptureStore {
  readonly #max: number;
  /** Closed blocks, oldest first. */
  #blocks: Block[] = [];
  /** The open block: its bytes (made at the first capture, reused) and captures. */
  #open: Uint8Array | null = null;
  #openUsed = 0;
  #openEntries: Entry[] = [];
  #openFirst = 0;
  /** Bytes of the captures kept (what the budget counts). */
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

  /** Bytes held now (the captures' own, before compression). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes the store holds in memory for its captures: the closed blocks as kept, and the open block. */
  get storedBytes(): number {
    let n = this.#open?.byteLength ?? 0;
    for (const b of this.#blocks) n += b.data.byteLength;
    return n;
  }

  /** Keeps `c`, dropping the oldest until it fits; false when it cannot fit at all (ids must increase). */
  add(c: CaptureInput): boolean {
    if (c.reqBody.byteLength + c.respBody.byteLength > this.#max) return false;
    const { path, headers } = encodedHead(c);
    const parts = [path, headers, c.reqBody, c.respBody];
    const n = path.byteLength + headers.byteLength + c.reqBody.byteLength + c.respBody.byteLength;
    if (n > this.#max) return false;
    while (this.#bytes + n > this.#max) this.#dropOldest();
    const entry = { id: c.id, offset: 0, pathBytes: path.byteLength, headerBytes: headers.byteLength, reqBytes: c.reqBody.byteLength, respBytes: c.respBody.byteLength };
    this.#bytes += n;
    if (n >= BLOCK_BYTES) {
      // Large: alone and as it is, after what was gathered before it (ids stay in order).
      this.#close();
      this.#blocks.push({ data: Bun.concatArrayBuffers(parts, n, true), compressed: false, entries: [entry], first: 0 });
      return true;
    }
    if (this.#openUsed + n > BLOCK_BYTES) this.#close();
    const open = (this.#open ??= new Uint8Array(BLOCK_BYTES));
    entry.offset = this.#openUsed;
    for (const part of parts) {
      open.set(part, this.#openUsed);
      this.#openUsed += part.byteLength;
    }
    this.#openEntries.push(entry);
    return true;
  }

  /** Compresses the open block's captures into a closed block (none: nothing to do). */
  #close(): void {
    const entries = this.#openEntries.slice(this.#openFirst);
    if (entries.length > 0) {
      // The dropped captures' bytes go too: offsets move back by the first kept one's.
      const from = entries[0]!.offset;
      for (const e of entries) e.offset -= from;
      const data = Bun.zstdCompressSync(this.#open!.subarray(from, this.#openUsed), { level: 1 });
      this.#blocks.push({ data, compressed: true, entries, first: 0 });
    }
    this.#openEntries = [];
    this.#openFirst = 0;
    this.#openUsed = 0;
  }

  #dropOldest(): void {
    const block = this.#blocks[0];
    if (block !== undefined) {
      this.#bytes -= size(block.entries[block.first++]!);
      if (block.first === block.entries.length) this.#blocks.shift();
      return;
    }
    const e = this.#openEntries[this.#openFirst++];
    if (e === undefined) throw new Error("Cannot make room for a capture: the store holds none");
    this.#bytes -= size(e);
  }

  /** The block (null: the open one) and entry of capture `id`, or null. */
  #find(id: number): { block: Block | null; entry: Entry } | null {
    const open = this.#openEntries;
    if (open.length > this.#openFirst && id >= open[this.#openFirst]!.id) {
      const entry = search(open, this.#openFirst, id);
      return entry === null ? null : { block: null, entry };
    }
    // The last block whose first kept capture is at most `id`.
    let lo = 0;
    let hi = this.#blocks.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.#blocks[mid]!;
      if (b.entries[b.first]!.id <= id) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at < 0) return null;
    const block = this.#blocks[at]!;
    const entry = search(block.entries, block.first, id);
    return entry === null ? null : { block, entry };
  }

  has(id: number): boolean {
    return this.#find(id) !== null;
  }

  get(id: number): Capture | null {
    const found = this.#find(id);
    if (found === null) return null;
    const { block, entry: e } = found;
    const bytes = block === null ? this.#open! : block.compressed ? Bun.zstdDecompressSync(block.data) : block.data;
    const headAt = e.offset + e.pathBytes;
    const reqAt = headAt + e.headerBytes;
    const respAt = reqAt + e.reqBytes;
    const [reqHeaders, respHeaders] = JSON.parse(decoder.decode(bytes.subarray(headAt, reqAt))) as [Record<string, string>, Record<string, string>];
    return {
      id,
      req_path: decoder.decode(bytes.subarray(e.offset, headAt)),
      req_headers: reqHeaders,
      req_body: bytes.subarray(reqAt, respAt).toBase64(),
      resp_headers: respHeaders,
      resp_body: bytes.subarray(respAt, respAt + e.respBytes).toBase64(),
    };
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
}

/** The entry with `id` among `entries[from..]` (ids increase), or null. */
function search(entries: Entry[], from: number, id: number): Entry | null {
  let lo = from;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = entries[mid]!.id;
    if (v === id) return entries[mid]!;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}
