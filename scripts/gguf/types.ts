/**
 * The GGUF file format's value types and the few ggml tensor types this
 * project writes (spec: ggml's `docs/gguf.md`; numbers from `gguf.h`).
 */

/** GGUF metadata value types, as stored in the file. */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufType = (typeof GgufType)[keyof typeof GgufType];

/** A scalar value type: every GGUF type but ARRAY. */
export type GgufScalarType = Exclude<GgufType, typeof GgufType.ARRAY>;

/** ggml tensor types this module can read and write (data is copied as bytes). */
export const GgmlType = { F32: 0, F16: 1 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Bytes per element of each supported ggml type. */
export const GGML_TYPE_SIZE: Record<GgmlType, number> = { [GgmlType.F32]: 4, [GgmlType.F16]: 2 };

/** The magic "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
/** The version this module writes; it reads 2 and 3 (64-bit counts). */
export const GGUF_VERSION = 3;
/** Alignment of tensor data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/**
 * One metadata value with its type kept, so a value read from one file is
 * written back to another unchanged (a `bos_token_id` stays UINT32, a
 * `token_type` array stays INT32).
 */
export type GgufValue =
  | { type: typeof GgufType.STRING; value: string }
  | { type: typeof GgufType.BOOL; value: boolean }
  | { type: typeof GgufType.UINT64 | typeof GgufType.INT64; value: bigint }
  | { type: Exclude<GgufScalarType, typeof GgufType.STRING | typeof GgufType.BOOL | typeof GgufType.UINT64 | typeof GgufType.INT64>; value: number }
  | { type: typeof GgufType.ARRAY; itemType: GgufScalarType; items: readonly (string | number | bigint | boolean)[] };

/** One tensor: ggml dimension order (`ne[0]` is the fastest-moving one). */
export interface GgufTensor {
  name: string;
  dims: readonly number[];
  type: GgmlType;
  /** Raw little-endian element bytes, `product(dims) * GGML_TYPE_SIZE[type]` long. */
  data: Uint8Array;
}

/** A whole GGUF file: ordered metadata and tensors. */
export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
}

/** Shorthands for metadata values of common types. */
export const gguf = {
  string: (value: string): GgufValue => ({ type: GgufType.STRING, value }),
  u32: (value: number): GgufValue => ({ type: GgufType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufType.BOOL, value }),
  array: (itemType: GgufScalarType, items: readonly (string | number | bigint | boolean)[]): GgufValue => ({ type: GgufType.ARRAY, itemType, items }),
};
