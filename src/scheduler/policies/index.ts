/**
 * The residency policy the core asks before every swap: which running models
 * must stop for `target` to run. Pure; called speculatively, so it never logs.
 */
import type { Config } from "../../config/types.ts";
import { BACKOFF, type Eviction } from "../core-types.ts";
import { evictionForGroups } from "./groups.ts";
import { evictionForMatrix } from "./matrix.ts";

/**
 * Dispatches to the configured router (`group` or `matrix`).
 *
 * @example
 * ```ts
 * evictionFor("b", ["a"], config); // ["a"] with llama-swap's defaults
 * ```
 */
export function evictionFor(target: string, running: string[], config: Config): Eviction {
  if (config.models[target] === undefined) return { cannotFit: `Cannot place model as it is not configured: ${target}` };
  switch (config.router) {
    case "group":
      return evictionForGroups(target, running, config);
    case "matrix":
      return evictionForMatrix(target, running, config);
    default: {
      const never: never = config.router;
      throw new TypeError(`Cannot choose a residency policy as the router is unknown: ${String(never)}`);
    }
  }
}

/**
 * Delay before the next start after `failures` consecutive failures: 1, 2,
 * 4, 8, 16 s, then 30 s for every later one, ±10 % jitter (`random()` 0.5 is
 * the exact figure).
 *
 * @example
 * ```ts
 * backoffMs(3, () => 0.5); // 4000
 * ```
 */
export function backoffMs(failures: number, random: () => number): number {
  const base = BACKOFF.delaysMs[Math.max(0, failures - 1)] ?? BACKOFF.laterMs;
  return Math.round(base + base * BACKOFF.jitter * (2 * random() - 1));
}
