/**
 * From the `model` a client names to what serves it: a local model (real id,
 * alias, `setParamsByID` key, profile pin, selector) or a peer.
 *
 * Aliases never reach the scheduler: it only ever sees real ids.
 */
import type { Config, PeerConfig, SelectorConfig } from "../../config/types.ts";
import type { Scheduler } from "../../scheduler/api.ts";
import type { ModelStatus } from "../../scheduler/protocol.ts";
import { HttpError } from "../errors.ts";

export type Target =
  /** `requested` is what the client sent; `model` is the real id. */
  | { kind: "local"; requested: string; model: string }
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
  scheduler: Scheduler;
}

/**
 * Resolves a requested model name; throws HttpError 404 when nothing serves it.
 * Order: profile pin, selector, local id/alias, peer.
 */
export async function resolveTarget(index: ModelIndex, requested: string, options: ResolveOptions): Promise<Target> {
  let name = requested;
  const profile = options.profile === null ? undefined : index.config.profiles[options.profile];
  if (profile && Object.hasOwn(profile.pins, name)) {
    const pinned = profile.pins[name];
    if (pinned === null || pinned === undefined) throw notFound(requested);
    name = pinned;
  }
  const selector = index.config.selectors[name];
  if (selector) {
    const pick = await pickSelectorTarget(index, selector, options.scheduler);
    if (pick === null) throw notFound(requested);
    const local = realModelId(index, pick);
    if (local !== null) return { kind: "local", requested, model: local };
    const peer = peerTarget(index, pick);
    if (peer) return { ...peer, requested };
    throw notFound(requested);
  }
  const local = realModelId(index, name);
  if (local !== null) return { kind: "local", requested, model: local };
  const peer = peerTarget(index, name);
  if (peer) return { ...peer, requested };
  throw notFound(requested);
}

/** One target as a selector sees it: a local model's state and load, or a peer. */
export type TargetLoad =
  | { kind: "local"; active: boolean; load: number }
  | { kind: "peer" };

/**
 * The spillover pick (llama-swap's "fill targets to the reservation count in
 * order, starting the next target when the active targets reach that count"):
 * the first active target in order below `reserve` requests (in flight plus
 * queued), else the first target that is not active (starting it), else the
 * first target. A peer always runs and its load is unknown: it counts as an
 * active target that never fills, eligible once every local target listed
 * before it is active, so `[local, peer]` fills the local model first and
 * overflows to the peer, and `[peer, local]` sends everything to the peer.
 *
 * @example
 * ```ts
 * pickSpillover(["a", "b"], (t) => ({ kind: "local", active: true, load: t === "a" ? 4 : 0 }), 4); // "b"
 * ```
 */
export function pickSpillover(targets: string[], loadOf: (target: string) => TargetLoad, reserve: number): string | null {
  let cold: string | null = null;
  for (const t of targets) {
    const l = loadOf(t);
    if (l.kind === "peer") {
      if (cold === null) return t;
    } else if (!l.active) {
      cold ??= t;
    } else if (l.load < reserve) {
      return t;
    }
  }
  return cold ?? targets[0] ?? null;
}

async function pickSelectorTarget(index: ModelIndex, selector: SelectorConfig, scheduler: Scheduler): Promise<string | null> {
  const { strategy, targets } = selector;
  const first = targets[0];
  if (first === undefined) return null;
  switch (strategy) {
    case "pin":
      return first;
    case "warm": {
      const stateOf = await localStatus(index, scheduler);
      return targets.find((t) => stateOf(t)?.state === "ready") ?? targets.find((t) => stateOf(t)?.state === "starting") ?? first;
    }
    case "spillover": {
      const stateOf = await localStatus(index, scheduler);
      return pickSpillover(targets, (t): TargetLoad => {
        if (realModelId(index, t) === null) return { kind: "peer" };
        const s = stateOf(t);
        const active = s?.state === "starting" || s?.state === "ready";
        return { kind: "local", active, load: (s?.inFlight ?? 0) + (s?.queued ?? 0) };
      }, selector.spillover);
    }
    default: {
      const never: never = strategy;
      throw new TypeError(`Cannot pick selector target: unknown strategy ${String(never)}`);
    }
  }
}

/** A lookup from a target name (id or alias) to its local model's status, from one `status()` round trip. */
async function localStatus(index: ModelIndex, scheduler: Scheduler): Promise<(target: string) => ModelStatus | undefined> {
  const byId = new Map((await scheduler.status()).map((s) => [s.model, s]));
  return (t) => {
    const id = realModelId(index, t);
    return id === null ? undefined : byId.get(id);
  };
}
