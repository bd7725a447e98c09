/**
 * The resolved configuration every other subsystem reads.
 *
 * The zod schema (`schema.ts`) describes the YAML as the user writes it; the
 * loader turns that into these plain, fully-defaulted objects: macros expanded,
 * ports assigned, `cmd` split into argv, `ttl: -1` resolved against
 * `globalTTL`. Everything here is structured-cloneable, so the same object is
 * posted to the scheduler Worker unchanged.
 */

/** Proxy connection timeouts in seconds (0 disables one), as llama-swap names them. */
export interface Timeouts {
  connect: number;
  keepalive: number;
  responseHeader: number;
  tlsHandshake: number;
  idleConn: number;
}

export interface Filters {
  /** Parameter names removed from the JSON body; never contains `model`. */
  stripParams: string[];
  setParams: Record<string, unknown>;
  /** Keys are full request model ids (each also acts as an alias). */
  setParamsByID: Record<string, Record<string, unknown>>;
}

export interface Capabilities {
  in: string[];
  out: string[];
  tools: boolean;
  reranker: boolean;
  context: number;
}

/** Memory a model needs, in bytes (0: not declared). */
export interface Resources {
  vram: number;
  ram: number;
}

/** Watchdog timeouts in seconds (0: off). */
export interface Watchdog {
  /** A request whose upstream sent no byte for this long is ended. */
  stallTimeout: number;
  /** A model busy with no byte to any client for this long is killed. */
  busyTimeout: number;
}

export interface ModelConfig {
  id: string;
  /** argv after macro expansion, comment removal and shell-like splitting. */
  cmd: string[];
  /** `cmd` as expanded text, comments removed and lines joined (for /running). */
  cmdText: string;
  /** argv of `cmdStop` with `${PID}` still unexpanded, or null for SIGTERM. */
  cmdStop: string[] | null;
  /** Base URL requests are proxied to, no trailing slash. */
  proxy: string;
  /** Path polled for readiness, or null for `checkEndpoint: none`. */
  checkEndpoint: string | null;
  /** Port assigned from `startPort` when `cmd` uses `${PORT}`, else null. */
  port: number | null;
  /** Idle seconds before unloading; 0 never unloads (already resolved from -1). */
  ttl: number;
  /** Seconds between SIGTERM (or cmdStop) and SIGKILL when unloading. */
  unloadTimeout: number;
  /** Extra environment, merged over the parent's. */
  env: Record<string, string>;
  aliases: string[];
  /** Model name sent upstream instead of the id; "" keeps the requested name. */
  useModelName: string;
  filters: Filters;
  unlisted: boolean;
  /** Queued plus in-flight requests allowed before 429 (resolved default 10). */
  concurrencyLimit: number;
  sendLoadingState: boolean;
  timeouts: Timeouts;
  capabilities: Capabilities | null;
  metadata: Record<string, unknown>;
  name: string;
  description: string;
  ignoreWebsockets: boolean;
  /** modelswap's `resources`, in bytes (0 when not declared). */
  resources: Resources;
  /** The global watchdog with this model's overrides applied. */
  watchdog: Watchdog;
  /** modelswap `replicas`: the ids of this model's replica entries (`m@1`, `m@2`, ...), empty for a single process. */
  replicas: string[];
  /** Set on a replica entry: the model it is a replica of (replicas are unlisted, without aliases). */
  replicaOf: string | null;
}

export interface GroupConfig {
  id: string;
  swap: boolean;
  exclusive: boolean;
  persistent: boolean;
  members: string[];
}

export interface MatrixConfig {
  vars: Record<string, string>;
  evictCosts: Record<string, number>;
  /** Named set expressions, in definition order, with vars still unexpanded. */
  sets: Array<{ name: string; expr: string }>;
}

export interface PeerConfig {
  id: string;
  proxy: string;
  apiKey: string;
  models: string[];
  timeouts: Timeouts;
  filters: Filters;
}

export interface ProfileConfig {
  id: string;
  description: string;
  /** Requested id → target id; null disables the id (404). */
  pins: Record<string, string | null>;
}

export interface SelectorConfig {
  id: string;
  strategy: "warm" | "pin" | "spillover";
  targets: string[];
  name: string;
  description: string;
  metadata: Record<string, unknown>;
  spillover: number;
  /** Hidden from /v1/models but still requestable (llama-swap's selector `unlisted`); always set by the loader. */
  unlisted?: boolean;
}

export type LogToStdout = "proxy" | "upstream" | "both" | "none";
export type LogLevel = "debug" | "info" | "warn" | "error";
/** How log lines are written: llama-swap's text, or one JSON object a line. */
export type LogFormat = "text" | "json";

export interface Config {
  /** Absolute path of the file this came from, or "<embedded>". */
  file: string;
  healthCheckTimeout: number;
  logLevel: LogLevel;
  logTimeFormat: string;
  logToStdout: LogToStdout;
  /** modelswap's own key: `text` (default) or `json`. */
  logFormat: LogFormat;
  metricsMaxInMemory: number;
  captureBuffer: number;
  startPort: number;
  sendLoadingState: boolean;
  includeAliasesInList: boolean;
  globalTTL: number;
  unloadTimeout: number;
  /** modelswap's own key: seconds a graceful shutdown waits for in-flight requests. */
  shutdownTimeout: number;
  apiKeys: string[];
  /** Regular expression sources from `upstream.ignorePaths`. */
  ignorePaths: string[];
  preload: string[];
  models: Record<string, ModelConfig>;
  router: "group" | "matrix";
  groups: Record<string, GroupConfig>;
  matrix: MatrixConfig | null;
  /** modelswap: seconds a swap waits for a busy model before its waiters get 503 (0: no limit). */
  maxSwapWait: number;
  /** modelswap: most models loaded at once outside persistent groups (0: no limit). */
  maxLoaded: number;
  /** modelswap: memory available to models in bytes; null where not limited (`vram: auto` already read). */
  resources: { vram: number | null; ram: number | null };
  /** modelswap: global watchdog defaults (each model's resolved copy is in `models[id].watchdog`). */
  watchdog: Watchdog;
  /** Model id → FIFO priority (default 0; higher first). */
  priority: Record<string, number>;
  peers: Record<string, PeerConfig>;
  profiles: Record<string, ProfileConfig>;
  selectors: Record<string, SelectorConfig>;
  performance: { disabled: boolean; every: string };
  store: { path: string } | null;
  ui: { sessionIdHeaders: string[] };
  /** modelswap's `cors.allowOrigins`: null lets every origin in (llama-swap's behaviour). */
  cors: { allowOrigins: string[] | null };
  /** Multipart upload limit in bytes (modelswap's `maxUploadBytes`, default 32 MiB). */
  maxUploadBytes: number;
  /** Non-fatal notes found while loading (legacy keys llama-swap ignores, …). */
  warnings: string[];
}

/**
 * The model `/comfyui/...` is served by (llama-swap's fixed id). A ComfyUI
 * page opens many parallel requests and a websocket that must not keep the
 * model loaded, so, as in llama-swap, it gets at least 50 concurrent requests
 * and ignores websockets for activity.
 */
export const COMFYUI_MODEL_ID = "comfyui_auto";
