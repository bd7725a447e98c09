/**
 * Which target serves a request when it names several: a model's replicas
 * (fewest in flight), and the `warm` and `spillover` selectors. Decided in the
 * core, where every request of a burst sees the choices made for the ones
 * before it (the main thread read one status snapshot for all of them, so a
 * burst piled onto one target or started several).
 */

/** One candidate as the core sees it. */
export interface Candidate {
  id: string;
  /** A peer target: always up, load unknown, never started by us. */
  peer: boolean;
  /** starting also covers a committed swap to it; `blocked`: in restart backoff. */
  state: "ready" | "starting" | "stopped" | "blocked";
  /** In flight plus waiting (queued or joined to its swap). */
  load: number;
}

const RANK: Record<Candidate["state"], number> = { ready: 0, starting: 1, stopped: 2, blocked: 3 };

/**
 * A replica: the fewest in flight (waiting included); ties go to ready, then
 * starting, then stopped (which is started), then the lowest slot. So a burst
 * of N requests on N stopped replicas starts all N, and a busy ready replica
 * is passed over for an idle one.
 *
 * @example
 * ```ts
 * chooseReplica([{ id: "m@1", peer: false, state: "ready", load: 1 }, { id: "m@2", peer: false, state: "ready", load: 0 }]); // "m@2"
 * ```
 */
export function chooseReplica(candidates: readonly Candidate[]): string | null {
  let best: Candidate | null = null;
  for (const c of candidates) {
    if (best === null) best = c;
    else if (c.state === "blocked") continue;
    else if (best.state === "blocked" || c.load < best.load || (c.load === best.load && RANK[c.state] < RANK[best.state])) best = c;
  }
  return best?.id ?? null;
}

/**
 * llama-swap's `warm`: the first ready target in order, then the first
 * starting one, else the first target (cold start).
 *
 * @example
 * ```ts
 * chooseWarm([{ id: "a", peer: false, state: "stopped", load: 0 }, { id: "b", peer: false, state: "ready", load: 3 }]); // "b"
 * ```
 */
export function chooseWarm(candidates: readonly Candidate[]): string | null {
  return (candidates.find((c) => c.state === "ready") ?? candidates.find((c) => c.state === "starting") ?? candidates[0])?.id ?? null;
}

/**
 * llama-swap's `spillover`: the first active (ready or starting) target in
 * order below `reserve` requests, else the first inactive one (starting it),
 * else the first target. A peer counts as active and never full, eligible
 * once every local target before it is active: `[local, peer]` fills the
 * local model first, then overflows to the peer.
 *
 * @example
 * ```ts
 * chooseSpillover([{ id: "a", peer: false, state: "ready", load: 4 }, { id: "b", peer: false, state: "stopped", load: 0 }], 4); // "b"
 * ```
 */
export function chooseSpillover(candidates: readonly Candidate[], reserve: number): string | null {
  let cold: string | null = null;
  for (const c of candidates) {
    if (c.peer) {
      if (cold === null) return c.id;
    } else if (c.state === "stopped" || c.state === "blocked") {
      cold ??= c.id;
    } else if (c.load < reserve) {
      return c.id;
    }
  }
  return cold ?? candidates[0]?.id ?? null;
}
