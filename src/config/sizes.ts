/**
 * Memory sizes as people write them in `resources`: `12GiB`, `24GB`, `512MiB`,
 * `1.5 TiB`, or a plain number of bytes. Binary units (KiB, MiB, GiB, TiB) are
 * powers of 1024, decimal ones (KB, MB, GB, TB) powers of 1000, as nvidia-smi
 * and vendors print them.
 */

const UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
};

/** The pattern a size must match (case-insensitive units, optional space). */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|k|m|g|t)?\s*$/i;

/**
 * Bytes in a size, or throws a `RangeError` naming what was wrong.
 * The single letters K, M, G, T are binary (llama.cpp and Ollama print GiB as "G").
 *
 * @example
 * ```ts
 * parseSize("12GiB"); // 12884901888
 * parseSize("24GB"); // 24000000000
 * parseSize(1024); // 1024
 * ```
 */
export function parseSize(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`Cannot use a negative or infinite size: got ${value}`);
    return Math.round(value);
  }
  const m = SIZE_PATTERN.exec(value);
  if (m === null) throw new RangeError(`Cannot parse size: expected a number with a unit like GiB, GB or MiB, got '${value}'`);
  return Math.round(Number(m[1]) * (UNIT[(m[2] ?? "b").toLowerCase()] ?? 1));
}

/**
 * A size for messages: the largest binary unit with a value of at least 1, to one decimal.
 *
 * @example
 * ```ts
 * formatSize(12 * 2 ** 30); // "12 GiB"
 * formatSize(1536 * 2 ** 20); // "1.5 GiB"
 * ```
 */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1).replace(/\.0$/, "")} ${units[i]}`;
}
