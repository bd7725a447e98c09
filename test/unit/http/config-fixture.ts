/**
 * Fully-defaulted `Config` objects for HTTP tests, without the YAML loader.
 */
import type { Config, ModelConfig, PeerConfig, Timeouts } from "../../../src/config/types.ts";

const timeouts: Timeouts = { connect: 0, keepalive: 0, responseHeader: 0, tlsHandshake: 0, idleConn: 0 };

/** One model with every field filled in. */
export function model(id: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    id,
    cmd: ["llama-server", "--port", "9999"],
    cmdText: "llama-server --port 9999",
    cmdStop: null,
    proxy: "http://127.0.0.1:9999",
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
    ...over,
  };
}

/** One peer with every field filled in. */
export function peer(id: string, proxy: string, models: string[], over: Partial<PeerConfig> = {}): PeerConfig {
  return { id, proxy, apiKey: "", models, timeouts, filters: { stripParams: [], setParams: {}, setParamsByID: {} }, ...over };
}

/** A config with the given models keyed by id. */
export function config(models: Record<string, Partial<ModelConfig>>, over: Partial<Config> = {}): Config {
  return {
    file: "<test>",
    healthCheckTimeout: 120,
    logLevel: "info",
    logTimeFormat: "",
    logToStdout: "none",
    metricsMaxInMemory: 1000,
    captureBuffer: 5,
    startPort: 5800,
    sendLoadingState: false,
    includeAliasesInList: false,
    globalTTL: 0,
    unloadTimeout: 5,
    shutdownTimeout: 5,
    apiKeys: [],
    ignorePaths: [],
    preload: [],
    models: Object.fromEntries(Object.entries(models).map(([id, m]) => [id, model(id, m)])),
    router: "group",
    groups: {},
    matrix: null,
    priority: {},
    peers: {},
    profiles: {},
    selectors: {},
    performance: { disabled: true, every: "" },
    store: null,
    ui: { sessionIdHeaders: [] },
    maxUploadBytes: 32 * 1024 * 1024,
    warnings: [],
    ...over,
  };
}
