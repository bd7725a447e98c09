/**
 * Durations on the command line, as people type them: `500ms`, `2s`, `1m`,
 * or a plain number of milliseconds.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration into milliseconds, or throws a `RangeError` naming what was wrong.
 *
 * @example
 * ```ts
 * parseDuration("2s"); // 2000
 * parseDuration("150"); // 150
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new RangeError(`Cannot parse duration: expected a number with an optional unit (ms, s, m, h), got '${text}'`);
  const value = Number(m[1]) * (UNITS[m[2] ?? "ms"] ?? 1);
  return Math.round(value);
}
