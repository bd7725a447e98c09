/**
 * Validated raw config → the resolved `Config` every subsystem reads:
 * defaults applied, ports assigned, routing normalised, references checked.
 */
import type { IssueList } from "./errors.ts";
import { isHttpUrl, resolveModel, splitParamList } from "./models.ts";
import { assignPorts } from "./ports.ts";
import { checkReferences, type RoutingPaths } from "./references.ts";
import type { RawConfig } from "./schema.ts";
import type { Config, GroupConfig, MatrixConfig, ModelConfig, PeerConfig, ProfileConfig, SelectorConfig } from "./types.ts";
import type { Segment } from "./yaml-positions.ts";
import { forEachLeftover, undefinedMacroMessage } from "./macros.ts";
import { goDurationMs } from "../lib/duration.ts";
import { queryGpusSync } from "../hardware/index.ts";
import { parseSize } from "./sizes.ts";

/** The id of replica `slot` (one-based) of model `id`: `id@slot`. */
export function replicaId(id: string, slot: number): string {
  return `${id}@${slot}`;
}

/** llama-swap's default for `upstream.ignorePaths`: static assets never trigger a swap. */
export const DEFAULT_IGNORE_PATHS = [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$"];

/** Builds the Config; problems go to `issues` (the caller throws). */
export function resolveConfig(raw: RawConfig, file: string, issues: IssueList): Config {
  const unloadTimeout = raw.unloadTimeout === 0 ? 10 : raw.unloadTimeout;
  const watchdog = { stallTimeout: raw.watchdog.stallTimeout, busyTimeout: raw.watchdog.busyTimeout };
  const defaults = { globalTTL: raw.globalTTL, unloadTimeout, sendLoadingState: raw.sendLoadingState, watchdog };

  // A model with replicas takes one port per replica (`m@1`, `m@2`, ... in the sorted order), none of its own.
  const cmds: Record<string, string> = {};
  for (const [id, m] of Object.entries(raw.models)) {
    if (m.replicas === 1) cmds[id] = m.cmd;
    else for (let k = 1; k <= m.replicas; k++) cmds[replicaId(id, k)] = m.cmd;
  }
  const ports = assignPorts(cmds, raw.startPort);
  const models: Record<string, ModelConfig> = {};
  for (const [id, m] of Object.entries(raw.models)) {
    const resolved = resolveModel(id, m, ports.get(m.replicas === 1 ? id : replicaId(id, 1)) ?? null, defaults, issues);
    if (!resolved) continue;
    models[id] = resolved;
    if (m.replicas === 1) continue;
    for (let k = 1; k <= m.replicas; k++) {
      const rid = replicaId(id, k);
      if (rid in raw.models) issues.error(["models", rid], `Rename the model: \`${rid}\` is the id of replica ${k} of \`${id}\``, "key");
      // The base resolved cleanly and ${SLOT} is a number: a replica raises no issue of its own.
      const r = resolveModel(id, m, ports.get(rid) ?? null, defaults, issues, k);
      if (!r) continue;
      models[rid] = { ...r, id: rid, aliases: [], unlisted: true, replicaOf: id, filters: { ...r.filters, setParamsByID: {} } };
      resolved.replicas.push(rid);
    }
  }

  const { router, groups, matrix, paths } = routing(raw, issues);

  raw.apiKeys.forEach((key, i) => {
    if (/\s/.test(key)) issues.error(["apiKeys", i], "Remove the spaces from the API key: keys cannot contain whitespace");
  });
  const ignorePaths = raw.upstream.ignorePaths?.length ? raw.upstream.ignorePaths : DEFAULT_IGNORE_PATHS;
  raw.upstream.ignorePaths?.forEach((source, i) => {
    try {
      new RegExp(source);
    } catch (e) {
      issues.error(["upstream", "ignorePaths", i], `Fix the regular expression: ${(e as Error).message}`);
    }
  });
  if (goDurationMs(raw.performance.every) < 1000) {
    issues.error(["performance", "every"], `Expected a duration of at least 1s: got ${JSON.stringify(raw.performance.every)}`);
  }

  if (raw.healthCheckTimeout < 15) {
    issues.warn(["healthCheckTimeout"], `Raise \`healthCheckTimeout\` to at least 15: ${raw.healthCheckTimeout}s is used as 15s, as llama-swap does`, "value");
  }
  const config: Config = {
    file,
    healthCheckTimeout: Math.max(15, raw.healthCheckTimeout),
    logLevel: raw.logLevel,
    logTimeFormat: raw.logTimeFormat,
    logToStdout: raw.logToStdout,
    logFormat: raw.logFormat,
    metricsMaxInMemory: raw.metricsMaxInMemory,
    captureBuffer: raw.captureBuffer,
    startPort: raw.startPort,
    sendLoadingState: raw.sendLoadingState,
    includeAliasesInList: raw.includeAliasesInList,
    globalTTL: raw.globalTTL,
    unloadTimeout,
    shutdownTimeout: raw.shutdownTimeout,
    apiKeys: raw.apiKeys,
    ignorePaths,
    preload: preloadIds(raw),
    models,
    router,
    groups,
    matrix,
    maxSwapWait: raw.routing.scheduler.settings.fifo.maxSwapWait,
    maxLoaded: raw.routing.router.settings.maxLoaded,
    resources: resources(raw, issues),
    watchdog,
    priority: raw.routing.scheduler.settings.fifo.priority,
    peers: peers(raw, issues),
    profiles: profiles(raw),
    selectors: selectors(raw),
    performance: { disabled: raw.performance.disabled, every: raw.performance.every },
    store: raw.store ? { path: raw.store.path } : null,
    ui: { sessionIdHeaders: headerNames(raw.ui.activity.session_id) },
    maxUploadBytes: raw.maxUploadBytes,
    cors: { allowOrigins: corsOrigins(raw, issues) },
    warnings: issues.warnings,
  };
  checkReferences(config, paths, issues);
  return config;
}

function routing(raw: RawConfig, issues: IssueList): {
  router: "group" | "matrix";
  groups: Record<string, GroupConfig>;
  matrix: MatrixConfig | null;
  paths: RoutingPaths;
} {
  const settings = raw.routing.router.settings;
  const legacy = raw.groups !== undefined || raw.matrix !== undefined;
  let use = raw.routing.router.use;
  let rawGroups = settings.groups;
  let rawMatrix = settings.matrix;
  let paths: RoutingPaths = { groups: ["routing", "router", "settings", "groups"], matrix: ["routing", "router", "settings", "matrix"] };
  const routingSet = rawGroups !== undefined || rawMatrix !== undefined;
  if (legacy && routingSet) {
    for (const key of ["groups", "matrix"] as const) {
      if (raw[key] !== undefined) issues.warn([key], `Remove the top-level \`${key}\`: routing.router is also set and wins`);
    }
  } else if (legacy) {
    if (raw.groups !== undefined && raw.matrix !== undefined) {
      issues.error(["matrix"], "Choose one of top-level `groups` and `matrix`: both are set", "key");
    }
    rawGroups = raw.groups;
    rawMatrix = raw.matrix;
    use = raw.matrix !== undefined ? "matrix" : "group";
    paths = { groups: ["groups"], matrix: ["matrix"] };
  }
  if (use === "matrix" && rawMatrix === undefined) {
    issues.error(["routing", "router", "use"], "Add routing.router.settings.matrix: the matrix router needs it");
  }
  const groups: Record<string, GroupConfig> = {};
  if (use === "group") {
    for (const [id, g] of Object.entries(rawGroups ?? {})) {
      groups[id] = { id, swap: g.swap, exclusive: g.exclusive, persistent: g.persistent, members: g.members };
    }
  }
  const matrix: MatrixConfig | null =
    use === "matrix" && rawMatrix
      ? { vars: rawMatrix.vars, evictCosts: rawMatrix.evict_costs, sets: Object.entries(rawMatrix.sets).map(([name, expr]) => ({ name, expr })) }
      : null;
  return { router: use, groups, matrix, paths };
}

function peers(raw: RawConfig, issues: IssueList): Record<string, PeerConfig> {
  const out: Record<string, PeerConfig> = {};
  for (const [id, p] of Object.entries(raw.peers)) {
    const path: Segment[] = ["peers", id];
    if (!isHttpUrl(p.proxy)) issues.error([...path, "proxy"], `Expected an http:// or https:// URL: got ${JSON.stringify(p.proxy)}`);
    if (p.models.length === 0) issues.error([...path, "models"], "Add the models this peer serves: models is empty");
    forEachLeftover({ apiKey: p.apiKey, filters: p.filters }, [...path], (at, name) => {
      if (!name.startsWith("env.")) issues.error(at, undefinedMacroMessage(name));
    });
    out[id] = {
      id,
      proxy: p.proxy.replace(/\/+$/, ""),
      apiKey: p.apiKey,
      models: p.models,
      timeouts: { ...p.timeouts },
      filters: { stripParams: splitParamList(p.filters.stripParams), setParams: p.filters.setParams, setParamsByID: {} },
    };
  }
  return out;
}

/**
 * The global memory limits in bytes; `vram: auto` asks nvidia-smi (the command
 * in `MODELSWAP_NVIDIA_SMI` when set, so tests and odd installs can point at
 * another) and is a config error when it cannot.
 */
function resources(raw: RawConfig, issues: IssueList): Config["resources"] {
  const { vram, ram } = raw.resources;
  let vramBytes: number | null = null;
  if (vram === "auto") {
    const report = queryGpusSync({ command: process.env.MODELSWAP_NVIDIA_SMI || "nvidia-smi" });
    if (report.present) vramBytes = report.totalVramBytes;
    else issues.error(["resources", "vram"], `Set vram to a size like "24GiB": "auto" needs nvidia-smi, and ${report.reason}`);
  } else if (vram !== undefined) {
    vramBytes = parseSize(vram);
  }
  return { vram: vramBytes, ram: ram === undefined ? null : parseSize(ram) };
}

function profiles(raw: RawConfig): Record<string, ProfileConfig> {
  const out: Record<string, ProfileConfig> = {};
  for (const [id, p] of Object.entries(raw.profiles)) {
    const pins: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(p.pins)) pins[k] = v === null || v === "" ? null : v;
    out[id] = { id, description: p.description, pins };
  }
  return out;
}

function selectors(raw: RawConfig): Record<string, SelectorConfig> {
  const out: Record<string, SelectorConfig> = {};
  for (const [id, s] of Object.entries(raw.selectors)) {
    out[id] = {
      id,
      strategy: s.strategy,
      targets: s.targets,
      name: s.name,
      description: s.description,
      metadata: s.metadata,
      spillover: s.settings.spillover,
      unlisted: s.unlisted,
    };
  }
  return out;
}

/** Preload entries trimmed, empties dropped, aliases replaced by their model id (as llama-swap does). */
function preloadIds(raw: RawConfig): string[] {
  const aliasOf = new Map<string, string>();
  for (const [id, m] of Object.entries(raw.models)) {
    for (const a of [...m.aliases, ...Object.keys(m.filters.setParamsByID)]) if (!aliasOf.has(a)) aliasOf.set(a, id);
  }
  return raw.hooks.on_startup.preload
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => (s in raw.models ? s : (aliasOf.get(s) ?? s)));
}

/** Trimmed, without empties or case-insensitive duplicates (llama-swap's normalisation). */
function headerNames(names: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === "" || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push(name);
  }
  return out;
}

/** `cors.allowOrigins`, each an origin (scheme://host[:port], nothing after) or "*"; null when unset. */
function corsOrigins(raw: RawConfig, issues: IssueList): string[] | null {
  const list = raw.cors.allowOrigins;
  if (list === undefined) return null;
  list.forEach((origin, i) => {
    if (origin === "*") return;
    const parsed = URL.canParse(origin) ? new URL(origin) : null;
    if (parsed === null || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      issues.error(["cors", "allowOrigins", i], `Expected an origin like "https://app.example.com" (scheme, host and port only, no trailing slash): got ${JSON.stringify(origin)}`);
    }
  });
  return list;
}
