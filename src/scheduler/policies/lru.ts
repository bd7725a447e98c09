/**
 * LocalAI's LRU count limit, fixed: at most `maxLoaded` models outside
 * persistent groups have a process (starting and stopping ones included, so a
 * burst never overshoots); one more evicts the least recently used idle one,
 * and a busy one only as the last resort (the core then waits, never cuts).
 */
import type { Config } from "../../config/types.ts";
import { groupOf } from "./groups.ts";
import { evictionOrder, type UsageOf } from "./usage.ts";

/**
 * Models to evict, beyond `evicted`, so that `target` plus what stays is at
 * most `config.maxLoaded` (0: no limit). Persistent group members neither
 * count nor go.
 *
 * @example
 * ```ts
 * evictionForCount("c", ["a", "b"], [], { ...config, maxLoaded: 2 }, usage); // ["a"] when a is the LRU idle one
 * ```
 */
export function evictionForCount(target: string, running: readonly string[], evicted: readonly string[], config: Config, usage: UsageOf): string[] {
  const max = config.maxLoaded;
  if (max <= 0) return [];
  const counted = (m: string) => config.router !== "group" || !groupOf(m, config).persistent;
  const stays = running.filter((m) => m !== target && !evicted.includes(m) && counted(m));
  const loaded = stays.length + (counted(target) ? 1 : 0);
  if (loaded <= max) return [];
  return evictionOrder(stays, usage).slice(0, loaded - max);
}
