/**
 * Durations as people type them on a command line or in a query string:
 * `500ms`, `2s`, `1m30s` (Go style), or a plain number of milliseconds.
 */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

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
  return Math.round(goDurationMs(t));
}

/**
 * Parses a command-line duration: a unit is required (`500ms`, `5s`, `1m`),
 * except for `0`. A bare `5` is refused rather than guessed: milliseconds
 * here, seconds in llama-swap's config, so either guess surprises someone.
 *
 * @example
 * ```ts
 * parseDurationWithUnit("5s"); // 5000
 * parseDurationWithUnit("5"); // throws RangeError
 * ```
 */
export function parseDurationWithUnit(text: string): number {
  const t = text.trim();
  if (/^0+(\.0+)?$/.test(t)) return 0;
  if (/^\d+(\.\d+)?$/.test(t)) {
    throw new RangeError(`Cannot parse duration: add a unit to '${text}' (${t}s for seconds, ${t}ms for milliseconds)`);
  }
  return parseDuration(t);
}

/**
 * Milliseconds in a Go duration string (`-1.5h`, `300ms`, `2us`) whose syntax
 * was already checked (the config schema's GO_DURATION, or parseDuration).
 *
 * @example
 * ```ts
 * goDurationMs("1m30s"); // 90000
 * ```
 */
export function goDurationMs(text: string): number {
  const sign = text.startsWith("-") ? -1 : 1;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  return sign * total;
}
