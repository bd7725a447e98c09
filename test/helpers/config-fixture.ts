/**
 * Builds fully-defaulted `Config` objects for unit tests without the YAML
 * loader: pass only what a test cares about.
 */
import type { Config, ModelConfig, PeerConfig, Timeouts } from "../../src/config/types.ts";

const timeouts: Timeouts = { connect: 0, keepalive: 0, responseHeader: 0, tlsHandshake: 0, idleConn: 0 };

/** One model with every field defaulted; `cmd` defaults to a no-op. */
export function modelConfig(id: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id,
    cmd: ["true"],
    cmdText: "true",
    cmdStop: null,
    proxy: `http://127.0.0.1:1/${id}`,
    checkEndpoint: "/health",
    port: null,
    ttl: 0,
    unloadTimeout: 5,
    env: {},
    aliases: [],
    useModelName: "",
    filters: { stripParams: [], setParams: {}, setParamsByID: {} },
    unlisted: false,
    concurrencyLimit: 10,
    sendLoadingState: false,
    timeouts,
    capabilities: null,
    metadata: {},
    name: "",
    description: "",
    ignoreWebsockets: false,
    resources: { vram: 0, ram: 0 },
    watchdog: { stallTimeout: 0, busyTimeout: 0 },
    replicas: [],
    replicaOf: null,
    ...over,
  };
}

/** One peer with every field defaulted. */
export function peerConfig(id: string, proxy: string, models: string[], over: Partial<PeerConfig> = {}): PeerConfig {
  return { id, proxy, apiKey: "", models, timeouts, filters: { stripParams: [], setParams: {}, setParamsByID: {} }, ...over };
}

/** A config with the given models (ids, or partial model configs keyed by id). */
export function testConfig(
  models: string[] | Record<string, Partial<ModelConfig>>,
  over: Partial<Config> = {},
): Config {
  const entries = Array.isArray(models) ? models.map((id) => [id, {}] as const) : Object.entries(models);
  return {
    file: "<test>",
    healthCheckTimeout: 120,
    logLevel: "info",
    logTimeFormat: "",
    logToStdout: "none",
    logFormat: "text",
    metricsMaxInMemory: 1000,
    captureBuffer: 5,
    startPort: 5800,
    sendLoadingState: false,
    includeAliasesInList: false,
    globalTTL: 0,
    unloadTimeout: 5,
    shutdownTimeout: 0,
    apiKeys: [],
    ignorePaths: [],
    preload: [],
    models: Object.fromEntries(entries.map(([id, m]) => [id, modelConfig(id, m)])),
    router: "group",
    groups: {},
    matrix: null,
    maxSwapWait: 0,
    maxLoaded: 0,
    resources: { vram: null, ram: null },
    watchdog: { stallTimeout: 0, busyTimeout: 0 },
    priority: {},
    peers: {},
    profiles: {},
    selectors: {},
    performance: { disabled: true, every: "" },
    store: null,
    ui: { sessionIdHeaders: [] },
    maxUploadBytes: 32 * 1024 * 1024,
    cors: { allowOrigins: null },
    warnings: [],
    ...over,
  };
}
