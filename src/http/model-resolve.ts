/**
 * From the `model` a client names to what serves it: a local model (real id,
 * alias, `setParamsByID` key, profile pin, selector) or a peer.
 *
 * Aliases never reach the scheduler: it only ever sees real ids.
 */
import type { Config, PeerConfig } from "../config/types.ts";
import type { Scheduler } from "../scheduler/api.ts";
import { HttpError } from "./errors.ts";

export type Target =
  /** `requested` is what the client sent; `model` is the real id. */
  | { kind: "local"; requested: string; model: string; note?: string }
  /** `model` is the id the peer knows. */
  | { kind: "peer"; requested: string; peer: PeerConfig; model: string };

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
  return new HttpError(404, "model_not_found", `Cannot find model: '${name}' is not configured`);
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
  scheduler: Scheduler;
}

/**
 * Resolves a requested model name; throws HttpError 404 when nothing serves it.
 * Order: profile pin, selector, local id/alias, peer.
 */
export async function resolveModel(index: ModelIndex, requested: string, options: ResolveOptions): Promise<Target> {
  let name = requested;
  const profile = options.profile === null ? undefined : index.config.profiles[options.profile];
  if (profile && Object.hasOwn(profile.pins, name)) {
    const pinned = profile.pins[name];
    if (pinned === null || pinned === undefined) throw notFound(requested);
    name = pinned;
  }
  const selector = index.config.selectors[name];
  if (selector) {
    const pick = await pickSelectorTarget(index, selector.strategy, selector.targets, options.scheduler);
    if (pick === null) throw notFound(requested);
    const local = realModelId(index, pick.target);
    if (local !== null) {
      const t: Target = { kind: "local", requested, model: local };
      if (pick.note) t.note = pick.note;
      return t;
    }
    const peer = peerTarget(index, pick.target);
    if (peer) return { ...peer, requested };
    throw notFound(requested);
  }
  const local = realModelId(index, name);
  if (local !== null) return { kind: "local", requested, model: local };
  const peer = peerTarget(index, name);
  if (peer) return { ...peer, requested };
  throw notFound(requested);
}

async function pickSelectorTarget(
  index: ModelIndex,
  strategy: "warm" | "pin" | "spillover",
  targets: string[],
  scheduler: Scheduler,
): Promise<{ target: string; note?: string } | null> {
  const first = targets[0];
  if (first === undefined) return null;
  switch (strategy) {
    case "pin":
      return { target: first };
    case "warm":
    case "spillover": {
      const note = strategy === "spillover" ? "spillover is routed as warm (no queue-depth signal on the main thread)" : undefined;
      const states = new Map((await scheduler.status()).map((s) => [s.model, s.state]));
      const stateOf = (t: string) => {
        const id = realModelId(index, t);
        return id === null ? undefined : states.get(id);
      };
      const ready = targets.find((t) => stateOf(t) === "ready");
      const starting = targets.find((t) => stateOf(t) === "starting");
      const target = ready ?? starting ?? first;
      return note ? { target, note } : { target };
    }
    default: {
      const never: never = strategy;
      throw new TypeError(`Cannot pick selector target: unknown strategy ${String(never)}`);
    }
  }
}
