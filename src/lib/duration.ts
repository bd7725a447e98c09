/**
 * Durations as people type them on a command line or in a query string:
 * `500ms`, `2s`, `1m30s` (Go style), or a plain number of milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration into milliseconds, or throws a `RangeError` naming what was wrong.
 *
 * @example
 * ```ts
 * parseDuration("2s"); // 2000
 * parseDuration("1m30s"); // 90000
 * parseDuration("150"); // 150
 * ```
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t));
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) {
    throw new RangeError(`Cannot parse duration: expected a number with an optional unit (ms, s, m, h), got '${text}'`);
  }
  let total = 0;
  for (const [, n, , unit] of t.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return Math.round(total);
}
