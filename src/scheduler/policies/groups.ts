/**
 * llama-swap's group residency policy, as its example config documents it:
 * `swap` (members swap among themselves), `exclusive` (running a member unloads
 * every other group) and `persistent` (other groups never unload this one).
 * A model in no group belongs to an implicit group with swap and exclusive
 * set, which is llama-swap's default: one model at a time.
 */
import type { Config, GroupConfig } from "../../config/types.ts";

/** The implicit group of every model that no configured group lists. */
export const DEFAULT_GROUP: GroupConfig = {
  id: "(default)",
  swap: true,
  exclusive: true,
  persistent: false,
  members: [],
};

/** The group a model (or a replica, by its model) belongs to, or the implicit default group. */
export function groupOf(model: string, config: Config): GroupConfig {
  const id = config.models[model]?.replicaOf ?? model;
  for (const g of Object.values(config.groups)) {
    if (g.members.includes(id)) return g;
  }
  return DEFAULT_GROUP;
}

/**
 * Models in `running` that must stop before `target` runs under groups.
 *
 * Like llama-swap (and its backwards-compatible gotcha), loading a model of a
 * non-exclusive group leaves other groups alone, even exclusive ones.
 *
 * @example
 * ```ts
 * evictionForGroups("b", ["a"], config); // ["a"] when a and b share a swap group
 * ```
 */
export function evictionForGroups(target: string, running: string[], config: Config): string[] {
  const tg = groupOf(target, config);
  const base = (m: string) => config.models[m]?.replicaOf ?? m;
  const out: string[] = [];
  for (const m of running) {
    // Replicas of one model run side by side: they never evict each other.
    if (m === target || out.includes(m) || base(m) === base(target)) continue;
    const og = groupOf(m, config);
    if (og.id === tg.id) {
      if (tg.swap) out.push(m);
    } else if (tg.exclusive && !og.persistent) {
      out.push(m);
    }
  }
  return out;
}
