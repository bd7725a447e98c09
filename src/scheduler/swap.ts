/**
 * A swap in progress (stop what must go, then start the target) and
 * llama-swap's rule for which swaps may run side by side.
 */
import type { Waiter } from "./queue.ts";

/** One committed swap; its target stays in the core's active map until ready or failed. */
export interface Swap {
  target: string;
  evict: string[];
  waiters: Waiter[];
  started: boolean;
  toldStopping: boolean;
}

/**
 * Whether a swap for `target` evicting `evict` must wait for an active swap:
 * never evict an active target, never start one being evicted, never share victims.
 */
export function collides(target: string, evict: string[], active: ReadonlyMap<string, Swap>): boolean {
  for (const [id, sw] of active) {
    if (id === target) continue;
    if (evict.includes(id) || sw.evict.includes(target) || evict.some((e) => sw.evict.includes(e))) return true;
  }
  return false;
}
