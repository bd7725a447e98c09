/**
 * The residency policy the core asks before every swap: which running models
 * must stop for `target` to run. Pure; called speculatively, so it never logs.
 */
import type { Config } from "../../config/types.ts";
import { BACKOFF, type Eviction } from "../core-types.ts";
import { evictionForGroups } from "./groups.ts";
import { evictionForMatrix } from "./matrix.ts";
import { evictionForCount } from "./lru.ts";
import { evictionForMemory } from "./memory.ts";
import { UNUSED, type UsageOf } from "./usage.ts";

export { type Usage, type UsageOf, evictionOrder } from "./usage.ts";
export { isOutOfMemory } from "./oom.ts";
export { type Candidate, chooseReplica, chooseSpillover, chooseWarm } from "./choose.ts";

/**
 * The configured router (`group` or `matrix`), then the limits on top of it:
 * the LRU count (`maxLoaded`), then memory fit (`resources`). Each limit adds
 * victims to what the router already evicts, in `evictionOrder`.
 *
 * @example
 * ```ts
 * evictionFor("b", ["a"], config); // ["a"] with llama-swap's defaults
 * ```
 */
export function evictionFor(target: string, running: string[], config: Config, usage: UsageOf = () => UNUSED): Eviction {
  if (config.models[target] === undefined) return { cannotFit: `Cannot place model as it is not configured: ${target}` };
  const routed = routerEviction(target, running, config);
  const counted = [...routed, ...evictionForCount(target, running, routed, config, usage)];
  const fit = evictionForMemory(target, running, counted, config, usage);
  return Array.isArray(fit) ? [...counted, ...fit] : fit;
}

function routerEviction(target: string, running: string[], config: Config): string[] {
  switch (config.router) {
    case "group":
      return evictionForGroups(target, running, config);
    case "matrix": {
      // The matrix names models: replicas count as their model, and evicting a model evicts all its replicas.
      const base = (m: string) => config.models[m]?.replicaOf ?? m;
      const evict = evictionForMatrix(base(target), [...new Set(running.map(base))], config);
      return running.filter((m) => evict.includes(base(m)) && base(m) !== base(target));
    }
    default: {
      const never: never = config.router;
      throw new TypeError(`Cannot choose a residency policy as the router is unknown: ${String(never)}`);
    }
  }
}

/** Next start allowed after `failures` consecutive failures: min(1s·2^(n-1), 60s) minus up to 20% jitter. */
export function backoffMs(failures: number, random: () => number): number {
  const base = Math.min(BACKOFF.baseMs * 2 ** Math.max(0, failures - 1), BACKOFF.maxMs);
  return Math.round(base - base * BACKOFF.jitter * random());
}
