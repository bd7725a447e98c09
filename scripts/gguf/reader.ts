/**
 * Reads a GGUF file (version 2 or 3): metadata with its types, tensor infos
 * and tensor bytes. Used to copy a tokenizer out of llama.cpp's vocab-only
 * GGUFs and to check what the writer wrote.
 *
 * @example
 * ```ts
 * const file = readGguf(new Uint8Array(await Bun.file("vocab.gguf").arrayBuffer()));
 * file.metadata.get("tokenizer.ggml.model"); // { type: 8, value: "llama" }
 * ```
 */
import {
  GGML_TYPE_SIZE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgmlType,
  type GgufFile,
  type GgufScalarType,
  type GgufTensor,
  GgufType,
  type GgufValue,
} from "./types.ts";

/** A bounds-checked little-endian cursor over bytes. */
class Cursor {
  #pos = 0;
  readonly #view: DataView;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get pos(): number {
    return this.#pos;
  }
  #take(n: number): number {
    if (this.#pos + n > this.bytes.byteLength) {
      throw new RangeError(`Cannot read ${n} bytes at offset ${this.#pos}: the file has ${this.bytes.byteLength}`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
  u8 = () => this.#view.getUint8(this.#take(1));
  i8 = () => this.#view.getInt8(this.#take(1));
  u16 = () => this.#view.getUint16(this.#take(2), true);
  i16 = () => this.#view.getInt16(this.#take(2), true);
  u32 = () => this.#view.getUint32(this.#take(4), true);
  i32 = () => this.#view.getInt32(this.#take(4), true);
  f32 = () => this.#view.getFloat32(this.#take(4), true);
  f64 = () => this.#view.getFloat64(this.#take(8), true);
  u64 = () => this.#view.getBigUint64(this.#take(8), true);
  i64 = () => this.#view.getBigInt64(this.#take(8), true);
  /** A u64 that must fit a JS number (counts and lengths). */
  count(): number {
    const n = this.u64();
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`Cannot read a count of ${n}: too large`);
    return Number(n);
  }
  string(): string {
    const n = this.count();
    const at = this.#take(n);
    return this.#decoder.decode(this.bytes.subarray(at, at + n));
  }
  slice(at: number, n: number): Uint8Array {
    if (at + n > this.bytes.byteLength) throw new RangeError(`Cannot read ${n} bytes at offset ${at}: the file has ${this.bytes.byteLength}`);
    return this.bytes.slice(at, at + n);
  }
}

function readScalar(c: Cursor, type: GgufScalarType): string | number | bigint | boolean {
  switch (type) {
    case GgufType.UINT8: return c.u8();
    case GgufType.INT8: return c.i8();
    case GgufType.UINT16: return c.u16();
    case GgufType.INT16: return c.i16();
    case GgufType.UINT32: return c.u32();
    case GgufType.INT32: return c.i32();
    case GgufType.FLOAT32: return c.f32();
    case GgufType.FLOAT64: return c.f64();
    case GgufType.UINT64: return c.u64();
    case GgufType.INT64: return c.i64();
    case GgufType.BOOL: {
      const b = c.u8();
      if (b > 1) throw new RangeError(`Cannot read a bool at offset ${c.pos - 1}: byte is ${b}`);
      return b === 1;
    }
    case GgufType.STRING: return c.string();
    default: {
      const never: never = type;
      throw new RangeError(`Cannot read value type ${String(never)}: unknown`);
    }
  }
}

function scalarType(c: Cursor, raw: number): GgufScalarType {
  if (!Number.isInteger(raw) || raw < 0 || raw > GgufType.FLOAT64 || raw === GgufType.ARRAY) {
    throw new RangeError(`Cannot read value type ${raw} at offset ${c.pos - 4}: unknown or nested array`);
  }
  return raw as GgufScalarType;
}

function readValue(c: Cursor): GgufValue {
  const raw = c.u32();
  if (raw === GgufType.ARRAY) {
    const itemType = scalarType(c, c.u32());
    const n = c.count();
    const items: (string | number | bigint | boolean)[] = new Array(n);
    for (let i = 0; i < n; i++) items[i] = readScalar(c, itemType);
    return { type: GgufType.ARRAY, itemType, items };
  }
  const type = scalarType(c, raw);
  return { type, value: readScalar(c, type) } as GgufValue;
}

/** Parses a whole GGUF file held in memory. */
export function readGguf(bytes: Uint8Array): GgufFile {
  const c = new Cursor(bytes);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) throw new TypeError(`Cannot read GGUF: magic is 0x${magic.toString(16)}, not "GGUF"`);
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new TypeError(`Cannot read GGUF: version ${version} is not supported (2 or 3)`);
  const nTensors = c.count();
  const nKv = c.count();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string();
    if (metadata.has(key)) throw new TypeError(`Cannot read GGUF: key '${key}' appears twice`);
    metadata.set(key, readValue(c));
  }
  const infos: { name: string; dims: number[]; type: GgmlType; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = c.string();
    const nDims = c.u32();
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.count());
    const type = c.u32();
    if (!(type in GGML_TYPE_SIZE)) throw new TypeError(`Cannot read tensor '${name}': ggml type ${type} is not supported (F32, F16)`);
    infos.push({ name, dims, type: type as GgmlType, offset: c.count() });
  }
  const alignment = alignmentOf(metadata);
  const dataStart = alignUp(c.pos, alignment);
  const tensors: GgufTensor[] = infos.map((t) => {
    const n = t.dims.reduce((a, b) => a * b, 1) * GGML_TYPE_SIZE[t.type];
    return { name: t.name, dims: t.dims, type: t.type, data: c.slice(dataStart + t.offset, n) };
  });
  return { version, metadata, tensors };
}

/** `general.alignment` when present (a power of two), else 32. */
export function alignmentOf(metadata: Map<string, GgufValue>): number {
  const a = metadata.get("general.alignment");
  if (a === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (a.type !== GgufType.UINT32 || a.value <= 0 || (a.value & (a.value - 1)) !== 0) {
    throw new TypeError("Cannot use 'general.alignment': it must be a UINT32 power of two");
  }
  return a.value;
}

/** `n` rounded up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
