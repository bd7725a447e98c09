/**
 * From the `model` a client names to what serves it: a local model (real id,
 * alias, `setParamsByID` key, profile pin, selector) or a peer.
 *
 * Aliases never reach the scheduler: it only ever sees real ids.
 */
import type { Config, PeerConfig, SelectorConfig } from "../../config/types.ts";
import type { Select } from "../../scheduler/api.ts";
import { HttpError } from "../errors.ts";

export type Target =
  /** `requested` is what the client sent; `model` is the real id. */
  | { kind: "local"; requested: string; model: string }
  /** `model` is the id the peer knows. */
  | { kind: "peer"; requested: string; peer: PeerConfig; model: string }
  /** A `warm` or `spillover` selector: the scheduler picks among `select.targets` on arrival. */
  | { kind: "select"; requested: string; selector: string; select: Select };

/** Lookup tables built once per config. */
export interface ModelIndex {
  config: Config;
  /** Real id for every real id, alias and setParamsByID key. */
  names: Map<string, string>;
  /** Unqualified peer model id → peers offering it. */
  peerModels: Map<string, PeerConfig[]>;
}

/** Builds the name tables for a config (why: resolution is per request and must be O(1)). */
export function buildIndex(config: Config): ModelIndex {
  const names = new Map<string, string>();
  for (const [id, m] of Object.entries(config.models)) {
    for (const key of Object.keys(m.filters.setParamsByID)) if (!names.has(key)) names.set(key, id);
  }
  for (const [id, m] of Object.entries(config.models)) for (const a of m.aliases) names.set(a, id);
  for (const id of Object.keys(config.models)) names.set(id, id);
  const peerModels = new Map<string, PeerConfig[]>();
  for (const peer of Object.values(config.peers)) {
    for (const m of peer.models) {
      const list = peerModels.get(m) ?? [];
      list.push(peer);
      peerModels.set(m, list);
    }
  }
  return { config, names, peerModels };
}

/** The real local id for a name (id, alias or setParamsByID key), or null. */
export function realModelId(index: ModelIndex, name: string): string | null {
  return index.names.get(name) ?? null;
}

function notFound(name: string): HttpError {
  return new HttpError("model_not_found", `Cannot find model: '${name}' is not configured`);
}

function peerTarget(index: ModelIndex, requested: string): Target | null {
  const slash = requested.indexOf("/");
  if (slash > 0) {
    const peer = index.config.peers[requested.slice(0, slash)];
    const model = requested.slice(slash + 1);
    if (peer && peer.models.includes(model)) return { kind: "peer", requested, peer, model };
  }
  const offering = index.peerModels.get(requested);
  if (offering && offering.length === 1 && offering[0]) return { kind: "peer", requested, peer: offering[0], model: requested };
  return null;
}

export interface ResolveOptions {
  /** Active profile id, or null (none is active at start). */
  profile: string | null;
}

/**
 * Resolves a requested model name; throws HttpError 404 when nothing serves it.
 * Order: profile pin, selector, local id/alias, peer. A `warm` or `spillover`
 * selector resolves to its candidates (`kind: "select"`): the scheduler picks
 * one when the request arrives, seeing every request before it (a status
 * snapshot read here would be stale for a burst).
 */
export function resolveTarget(index: ModelIndex, requested: string, options: ResolveOptions): Target {
  const profile = options.profile === null ? undefined : index.config.profiles[options.profile];
  if (profile && Object.hasOwn(profile.pins, requested)) {
    const pinned = profile.pins[requested];
    if (pinned === null || pinned === undefined) throw notFound(requested);
    // As llama-swap: the pin replaces the requested id, so filters and the upstream see the target's name.
    return resolveTarget(index, pinned, { profile: null });
  }
  const selector = index.config.selectors[requested];
  if (selector) return selectorTarget(index, requested, selector);
  return concreteTarget(index, requested, requested);
}

/**
 * An `/upstream/<path>` with the active profile's pins applied (llama-swap:
 * the longest pin that is the path or a prefix of it followed by `/`); 404
 * for a disabled pin.
 */
export function pinnedUpstreamPath(index: ModelIndex, profileId: string | null, path: string): string {
  const pins = profileId === null ? undefined : index.config.profiles[profileId]?.pins;
  if (pins === undefined) return path;
  let best: string | null = null;
  for (const pin of Object.keys(pins)) {
    if ((path === pin || path.startsWith(`${pin}/`)) && (best === null || pin.length > best.length)) best = pin;
  }
  if (best === null) return path;
  const target = pins[best];
  if (target === null || target === undefined) throw notFound(best);
  return target + path.slice(best.length);
}

/** A local model or a peer for `name` (no pins, no selectors), or 404. */
export function concreteTarget(index: ModelIndex, requested: string, name: string): Target {
  const local = realModelId(index, name);
  if (local !== null) return { kind: "local", requested, model: local };
  const peer = peerTarget(index, name);
  if (peer) return { ...peer, requested };
  throw notFound(requested);
}

function selectorTarget(index: ModelIndex, requested: string, selector: SelectorConfig): Target {
  const { strategy, targets } = selector;
  const first = targets[0];
  if (first === undefined) throw notFound(requested);
  switch (strategy) {
    case "pin":
      return concreteTarget(index, requested, first);
    case "warm":
    case "spillover": {
      const ids: string[] = [];
      const peers: string[] = [];
      for (const t of targets) {
        const local = realModelId(index, t);
        ids.push(local ?? t);
        if (local === null) peers.push(t);
      }
      return { kind: "select", requested, selector: selector.id, select: { strategy, targets: ids, peers, reserve: selector.spillover } };
    }
    default: {
      const never: never = strategy;
      throw new TypeError(`Cannot pick selector target: unknown strategy ${String(never)}`);
    }
  }
}

/**
 * The concrete target a selector's lease names: the peer it routed to, or the
 * local model granted (a replica counts as its model).
 */
export function chosenTarget(index: ModelIndex, requested: string, lease: { model: string; peer: string | null }): Target {
  if (lease.peer !== null) return concreteTarget(index, requested, lease.peer);
  return { kind: "local", requested, model: index.config.models[lease.model]?.replicaOf ?? lease.model };
}
