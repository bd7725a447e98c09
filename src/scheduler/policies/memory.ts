/**
 * Ollama's memory fit, declared instead of guessed: each model's
 * `resources` (vram, ram) is counted against the global `resources`; a model
 * starts only when what stays running plus it fits. Idle models go first,
 * least recently used first; busy ones only as the last resort (the core then
 * waits for them); a model that can never fit is refused with the numbers.
 */
import type { Config } from "../../config/types.ts";
import { formatSize } from "../../config/sizes.ts";
import type { Eviction } from "../core-types.ts";
import { groupOf } from "./groups.ts";
import { evictionOrder, type UsageOf } from "./usage.ts";

const KINDS = ["vram", "ram"] as const;

function need(config: Config, model: string, kind: (typeof KINDS)[number]): number {
  return config.models[model]?.resources[kind] ?? 0;
}

/**
 * Models to evict, beyond `evicted`, for `target` to fit in `config.resources`,
 * or `cannotFit` naming the numbers when it never can (alone, or beside the
 * persistent models that are never evicted).
 *
 * @example
 * ```ts
 * evictionForMemory("big", ["a"], [], config, usage); // ["a"] when a and big do not fit together
 * ```
 */
export function evictionForMemory(target: string, running: readonly string[], evicted: readonly string[], config: Config, usage: UsageOf): Eviction {
  const limited = KINDS.filter((k) => config.resources[k] !== null);
  if (limited.length === 0) return [];
  for (const k of limited) {
    const cap = config.resources[k]!;
    if (need(config, target, k) > cap) {
      return { cannotFit: `Cannot start model ${target} as it needs ${formatSize(need(config, target, k))} of ${k} and resources.${k} is ${formatSize(cap)}` };
    }
  }
  const stays = running.filter((m) => m !== target && !evicted.includes(m));
  // Persistent groups are never evicted by other groups (their own members may swap among themselves).
  const pinned = (m: string) => config.router === "group" && groupOf(m, config).persistent && groupOf(m, config).id !== groupOf(target, config).id;
  const used = (k: (typeof KINDS)[number], models: readonly string[]) => models.reduce((sum, m) => sum + need(config, m, k), 0) + need(config, target, k);
  const fits = (models: readonly string[]) => limited.every((k) => used(k, models) <= config.resources[k]!);
  const out: string[] = [];
  let left = [...stays];
  for (const m of evictionOrder(stays.filter((x) => !pinned(x)), usage)) {
    if (fits(left)) break;
    out.push(m);
    left = left.filter((x) => x !== m);
  }
  if (fits(left)) return out;
  const k = limited.find((x) => used(x, left) > config.resources[x]!)!;
  const kept = used(k, left) - need(config, target, k);
  return {
    cannotFit: `Cannot start model ${target} as it needs ${formatSize(need(config, target, k))} of ${k}, persistent models keep ${formatSize(kept)} and resources.${k} is ${formatSize(config.resources[k]!)}`,
  };
}
