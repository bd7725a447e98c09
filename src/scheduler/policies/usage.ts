/**
 * What the limit policies (LRU count, memory fit) need to know about each
 * running model, and the one order in which they give models up.
 */

/** A running model as the limit policies see it. */
export interface Usage {
  /**
   * `stopping`: already going (evicting it costs nothing, waiting for it does);
   * `idle`: ready, nothing in flight; `busy`: requests in flight, or starting.
   */
  kind: "stopping" | "idle" | "busy";
  /** When last used (a request started or ended), on any increasing scale; -Infinity when never used (oldest). */
  lastUsed: number;
}

/** Usage per model id; models it does not know count as idle and never used. */
export type UsageOf = (model: string) => Usage;

const RANK: Record<Usage["kind"], number> = { stopping: 0, idle: 1, busy: 2 };

/**
 * Eviction order: stopping models first (they are going anyway), then idle
 * ones least recently used first, then busy ones (evicting those makes the
 * start wait until they are idle; it never cuts them). Ties: by id, so the
 * answer never depends on map order.
 *
 * @example
 * ```ts
 * evictionOrder(["a", "b"], usage); // ["b", "a"] when b was used longer ago and both are idle
 * ```
 */
export function evictionOrder(models: readonly string[], usage: UsageOf): string[] {
  return [...models].sort((x, y) => {
    const ux = usage(x);
    const uy = usage(y);
    return RANK[ux.kind] - RANK[uy.kind] || ux.lastUsed - uy.lastUsed || (x < y ? -1 : x > y ? 1 : 0);
  });
}

/** The usage of a model the core has no record of. */
export const UNUSED: Usage = { kind: "idle", lastUsed: Number.NEGATIVE_INFINITY };
