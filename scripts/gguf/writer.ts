/**
 * Writes a GGUF version 3 file: metadata in the given order, tensor infos,
 * then each tensor's bytes at an offset aligned to `general.alignment`
 * (32 by default), as llama.cpp's loader expects.
 *
 * @example
 * ```ts
 * const bytes = writeGguf({ version: 3, metadata: new Map([["general.name", gguf.string("tiny")]]), tensors: [] });
 * await Bun.write("tiny.gguf", bytes);
 * ```
 */
import { alignmentOf, alignUp } from "./reader.ts";
import { GGML_TYPE_SIZE, GGUF_MAGIC, GGUF_VERSION, type GgufFile, type GgufScalarType, GgufType, type GgufValue } from "./types.ts";

const encoder = new TextEncoder();

/** A growable little-endian byte sink. */
class Sink {
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  pos = 0;
  #room(n: number): number {
    if (this.pos + n > this.#buf.byteLength) {
      const next = new Uint8Array(Math.max(this.#buf.byteLength * 2, this.pos + n));
      next.set(this.#buf.subarray(0, this.pos));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  /** Reserves `n` bytes, then writes them: the view is read after `#room`, which may replace it. */
  #put(n: number, write: (view: DataView, at: number) => void): void {
    const at = this.#room(n);
    write(this.#view, at);
  }
  u8 = (v: number) => this.#put(1, (d, at) => d.setUint8(at, v));
  i8 = (v: number) => this.#put(1, (d, at) => d.setInt8(at, v));
  u16 = (v: number) => this.#put(2, (d, at) => d.setUint16(at, v, true));
  i16 = (v: number) => this.#put(2, (d, at) => d.setInt16(at, v, true));
  u32 = (v: number) => this.#put(4, (d, at) => d.setUint32(at, v, true));
  i32 = (v: number) => this.#put(4, (d, at) => d.setInt32(at, v, true));
  f32 = (v: number) => this.#put(4, (d, at) => d.setFloat32(at, v, true));
  f64 = (v: number) => this.#put(8, (d, at) => d.setFloat64(at, v, true));
  u64 = (v: bigint | number) => this.#put(8, (d, at) => d.setBigUint64(at, BigInt(v), true));
  i64 = (v: bigint) => this.#put(8, (d, at) => d.setBigInt64(at, v, true));
  bytes(b: Uint8Array): void {
    const at = this.#room(b.byteLength);
    this.#buf.set(b, at);
  }
  string(s: string): void {
    const b = encoder.encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    this.#room(alignUp(this.pos, alignment) - this.pos); // zero-filled: the buffer starts zeroed and only grows
  }
  done(): Uint8Array {
    return this.#buf.slice(0, this.pos);
  }
}

function expect<T>(v: unknown, check: (v: unknown) => v is T, what: string): T {
  if (!check(v)) throw new TypeError(`Cannot write ${what}: got ${typeof v} ${String(v)}`);
  return v;
}
const isNum = (v: unknown): v is number => typeof v === "number";
const isBig = (v: unknown): v is bigint => typeof v === "bigint";

function writeScalar(s: Sink, type: GgufScalarType, v: unknown): void {
  switch (type) {
    case GgufType.UINT8: return s.u8(expect(v, isNum, "a UINT8"));
    case GgufType.INT8: return s.i8(expect(v, isNum, "an INT8"));
    case GgufType.UINT16: return s.u16(expect(v, isNum, "a UINT16"));
    case GgufType.INT16: return s.i16(expect(v, isNum, "an INT16"));
    case GgufType.UINT32: return s.u32(expect(v, isNum, "a UINT32"));
    case GgufType.INT32: return s.i32(expect(v, isNum, "an INT32"));
    case GgufType.FLOAT32: return s.f32(expect(v, isNum, "a FLOAT32"));
    case GgufType.FLOAT64: return s.f64(expect(v, isNum, "a FLOAT64"));
    case GgufType.UINT64: return s.u64(expect(v, isBig, "a UINT64"));
    case GgufType.INT64: return s.i64(expect(v, isBig, "an INT64"));
    case GgufType.BOOL: return s.u8(expect(v, (x): x is boolean => typeof x === "boolean", "a BOOL") ? 1 : 0);
    case GgufType.STRING: return s.string(expect(v, (x): x is string => typeof x === "string", "a STRING"));
    default: {
      const never: never = type;
      throw new RangeError(`Cannot write value type ${String(never)}: unknown`);
    }
  }
}

function writeValue(s: Sink, v: GgufValue): void {
  s.u32(v.type);
  if (v.type === GgufType.ARRAY) {
    s.u32(v.itemType);
    s.u64(v.items.length);
    for (const item of v.items) writeScalar(s, v.itemType, item);
  } else {
    writeScalar(s, v.type, v.value);
  }
}

/** Serialises `file` (its `version` is ignored: always 3). */
export function writeGguf(file: GgufFile): Uint8Array {
  const alignment = alignmentOf(file.metadata);
  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(GGUF_VERSION);
  s.u64(file.tensors.length);
  s.u64(file.metadata.size);
  for (const [key, value] of file.metadata) {
    s.string(key);
    writeValue(s, value);
  }
  let offset = 0;
  const names = new Set<string>();
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new TypeError(`Cannot write tensor '${t.name}': the name appears twice`);
    names.add(t.name);
    const n = t.dims.reduce((a, b) => a * b, 1) * GGML_TYPE_SIZE[t.type];
    if (n !== t.data.byteLength) throw new RangeError(`Cannot write tensor '${t.name}': dims [${t.dims.join(", ")}] need ${n} bytes, data has ${t.data.byteLength}`);
    s.string(t.name);
    s.u32(t.dims.length);
    for (const d of t.dims) s.u64(d);
    s.u32(t.type);
    s.u64(offset);
    offset = alignUp(offset + n, alignment);
  }
  s.padTo(alignment);
  for (const t of file.tensors) {
    s.bytes(t.data);
    s.padTo(alignment);
  }
  return s.done();
}
