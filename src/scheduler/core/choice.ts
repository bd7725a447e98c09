/**
 * Turning a request that names several targets into one: a model with
 * replicas (the one with the fewest in flight), or a `warm`/`spillover`
 * selector whose candidates the acquire names. Runs in the core on arrival,
 * so each request of a burst sees the choices made for the ones before it.
 */
import type { Select } from "../core-types.ts";
import { type Candidate, chooseReplica, chooseSpillover, chooseWarm } from "../policies/index.ts";
import { type CoreState, waiting } from "./state.ts";

/** What a request resolves to: a scheduled model id, a peer target, or nothing (unknown). */
export type Choice = { model: string } | { peer: string } | null;

/**
 * The target for a request for `model`, with `select` when it came through a
 * selector. A model with replicas becomes one of them.
 */
export function choose(s: CoreState, model: string, select: Select | undefined): Choice {
  if (select === undefined) return { model: replicaFor(s, model) };
  const candidates = select.targets.map((t) => candidate(s, t, select.peers.includes(t)));
  const pick = select.strategy === "warm" ? chooseWarm(candidates) : chooseSpillover(candidates, select.reserve);
  if (pick === null) return null;
  return select.peers.includes(pick) ? { peer: pick } : { model: replicaFor(s, pick) };
}

/** `model` itself, or the replica with the fewest in flight when it has replicas. */
function replicaFor(s: CoreState, model: string): string {
  const replicas = s.config.models[model]?.replicas ?? [];
  if (replicas.length === 0) return model;
  return chooseReplica(replicas.map((r) => candidate(s, r, false))) ?? model;
}

/** A target as the choosers see it; a model with replicas is as ready as its readiest replica, and as loaded as all. */
function candidate(s: CoreState, id: string, peer: boolean): Candidate {
  if (peer) return { id, peer, state: "ready", load: 0 };
  const replicas = s.config.models[id]?.replicas ?? [];
  if (replicas.length > 0) {
    const parts = replicas.map((r) => candidate(s, r, false));
    const state = parts.find((p) => p.state === "ready")?.state ?? parts.find((p) => p.state === "starting")?.state ?? parts.find((p) => p.state === "stopped")?.state ?? "blocked";
    return { id, peer, state, load: parts.reduce((n, p) => n + p.load, 0) };
  }
  const m = s.models.get(id);
  if (m === undefined) return { id, peer, state: "blocked", load: 0 };
  const load = m.inFlight + waiting(s, id);
  if (s.active.has(id) || m.state === "starting") return { id, peer, state: "starting", load };
  if (m.state === "ready") return { id, peer, state: "ready", load };
  // In its restart delay: a last resort, after every target that can start now.
  if (m.failures > 0 && m.retryAt > s.now) return { id, peer, state: "blocked", load };
  return { id, peer, state: "stopped", load };
}
