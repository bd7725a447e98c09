/**
 * The config file as the user writes it (after macro substitution), in zod.
 * Unknown keys are errors; defaults here are llama-swap's. The JSON Schema
 * users point their editors at is generated from this (`npm run schema`).
 */
import { z } from "zod";
import { SIZE_PATTERN } from "./sizes.ts";

const intAtLeast = (min: number) => {
  const error = `Expected an integer >= ${min}`;
  return z.int({ error }).min(min, { error });
};
const anyInt = () => z.int({ error: "Expected an integer" });
const bool = () => z.boolean({ error: "Expected true or false" });
const str = () => z.string({ error: "Expected a string" });
const nonEmpty = () => z.string({ error: "Expected a non-empty string" }).min(1, { error: "Expected a non-empty string" });
const strList = () => z.array(str(), { error: "Expected a list of strings" });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `Expected one of ${values.map((v) => JSON.stringify(v)).join(", ")}` });
const mapping = () => z.record(z.string(), z.unknown(), { error: "Expected a mapping" });
const obj = <S extends z.core.$ZodLooseShape>(shape: S) => z.strictObject(shape, { error: "Expected a mapping" });
const seconds = () => z.number({ error: "Expected a number of seconds" }).min(0, { error: "Expected a number of seconds >= 0" });
const size = () =>
  z.union([z.string().regex(SIZE_PATTERN), z.number().int().min(0)], { error: 'Expected a size like "12GiB", "24GB" or "512MiB"' });

/** Go duration syntax (`1h30m`, `15s`, `250ms`). */
export const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^0$/;

const macroSchema = z
  .record(
    z.string().regex(/^[a-zA-Z0-9_-]+$/).max(63),
    z.union([z.string().max(1024), z.number(), z.boolean()], { error: "Expected a string, number or boolean" }),
    { error: "Expected a mapping" },
  )
  .describe(
    "Reusable substitutions. Names match ^[a-zA-Z0-9_-]+$, are shorter than 64 characters and are not PID, PORT, MODEL_ID or MODELSWAP. A macro may use macros defined before it.",
  );

const timeoutFields = {
  connect: intAtLeast(0).default(30).describe("TCP connect timeout in seconds; 0 disables."),
  keepalive: intAtLeast(0).default(30).describe("TCP keepalive in seconds; 0 disables."),
  responseHeader: intAtLeast(0).default(0).describe("Seconds to wait for response headers; 0 disables."),
  tlsHandshake: intAtLeast(0).default(10).describe("TLS handshake timeout in seconds; 0 disables."),
  idleConn: intAtLeast(0).default(90).describe("Idle connection timeout in seconds; 0 disables."),
};
const modelTimeouts = obj({
  ...timeoutFields,
  expectContinue: intAtLeast(0).default(1).describe("Expect-Continue timeout in seconds (accepted for llama-swap compatibility)."),
});
const peerTimeouts = obj(timeoutFields);

const stripParams = str()
  .regex(/^[a-zA-Z0-9_, ]*$/, { error: "Expected a comma separated list of parameter names" })
  .default("")
  .describe("Comma separated parameter names removed from request bodies; `model` is never removed.");
const setParams = mapping().default({}).describe("Parameters set or overridden in request bodies.");

const modality = oneOf(["text", "audio", "image"]);

export const modelSchema = obj({
  macros: macroSchema.optional(),
  cmd: nonEmpty().describe("Command that starts the model server; `#` lines are comments; split like a shell, never run by one."),
  cmdStop: str().default("").describe("Command that stops the server gracefully; ${PID} is the server's process id."),
  name: str().max(128).default("").describe("Display name in /v1/models."),
  description: str().max(1024).default("").describe("Description in /v1/models."),
  env: z
    .array(str().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, { error: "Expected NAME=value" }), { error: "Expected a list of NAME=value strings" })
    .default([])
    .describe("Environment variables for cmd, as NAME=value."),
  proxy: str().optional().describe("URL requests are proxied to. Default http://127.0.0.1:${PORT}; required when cmd does not use ${PORT}."),
  aliases: z.array(nonEmpty(), { error: "Expected a list of strings" }).default([]).describe("Other names this model answers to; unique across the config."),
  checkEndpoint: str()
    .regex(/^\/.*$|^none$/, { error: 'Expected a path starting with "/" or "none"' })
    .default("/health")
    .describe('Path polled until it answers 200; "none" skips the check.'),
  ttl: intAtLeast(-1).default(-1).describe("Idle seconds before unloading; -1 uses globalTTL, 0 never unloads."),
  unloadTimeout: intAtLeast(0).default(0).describe("Seconds between stop and kill; 0 uses the global unloadTimeout."),
  restart: oneOf(["on-demand", "always"])
    .default("on-demand")
    .describe('After a crash: "on-demand" starts the model again on the next request (llama-swap); "always" starts it again after the restart delay with no request (for preloaded models).'),
  useModelName: str().default("").describe("Model name sent upstream instead of the requested one."),
  filters: obj({
    stripParams,
    setParams,
    setParamsByID: z
      .record(z.string(), mapping(), { error: "Expected a mapping" })
      .default({})
      .describe("Requested model id → parameters to set; each key also acts as an alias. Keys may use ${MODEL_ID}."),
  })
    .prefault({})
    .describe("Request body filters."),
  metadata: mapping().default({}).describe("Arbitrary values included in /v1/models."),
  concurrencyLimit: intAtLeast(0).default(0).describe("Parallel requests allowed before 429; 0 uses the default of 10."),
  sendLoadingState: bool().optional().describe("Overrides the global sendLoadingState."),
  unlisted: bool().default(false).describe("Hide from /v1/models while still serving requests."),
  timeouts: modelTimeouts.prefault({}).describe("Proxy connection timeouts."),
  compat: obj({
    ignoreWebsockets: bool().default(false).describe("Websocket connections do not load the model or count as activity."),
  }).prefault({}),
  capabilities: obj({
    in: z.array(modality, { error: "Expected a list" }).default([]),
    out: z.array(modality, { error: "Expected a list" }).default([]),
    tools: bool().default(false),
    reranker: bool().default(false),
    context: intAtLeast(0).default(0),
  })
    .optional()
    .describe("What the model accepts and produces, for /v1/models."),
  resources: obj({
    vram: size().optional().describe("GPU memory this model uses (GiB, GB, MiB, ...); counted against the global resources.vram."),
    ram: size().optional().describe("System memory this model uses; counted against the global resources.ram."),
  })
    .optional()
    .describe("modelswap: memory this model needs; a model starts only when the running ones plus it fit."),
  replicas: intAtLeast(1)
    .default(1)
    .describe("modelswap: processes of this model run side by side, each with its own ${PORT} and a stable one-based ${SLOT}; requests go to the one with the fewest in flight."),
  watchdog: obj({
    stallTimeout: seconds().optional().describe("Overrides the global watchdog.stallTimeout for this model."),
    busyTimeout: seconds().optional().describe("Overrides the global watchdog.busyTimeout for this model."),
  })
    .optional()
    .describe("modelswap: per-model watchdog overrides."),
});

const groupSchema = obj({
  swap: bool().default(true).describe("Only one member runs at a time."),
  exclusive: bool().default(true).describe("Running a member unloads every other group."),
  persistent: bool().default(false).describe("Other groups never unload this group's members."),
  members: z.array(str(), { error: "Expected a list of model ids" }).describe("Model ids; a model belongs to at most one group."),
});
const groupsSchema = z.record(z.string(), groupSchema, { error: "Expected a mapping" });

const matrixSchema = obj({
  vars: z
    .record(z.string().regex(/^[a-zA-Z0-9.-]{1,32}$/), str(), { error: "Expected a mapping" })
    .default({})
    .describe("Short names for model ids."),
  evict_costs: z.record(z.string(), intAtLeast(1), { error: "Expected a mapping" }).default({}).describe("Cost of evicting a model (default 1)."),
  sets: z.record(z.string(), str(), { error: "Expected a mapping" }).describe("Named expressions of models that may run together: & | ( ) +set."),
});

const peerSchema = obj({
  proxy: str().describe("Base URL of the peer."),
  apiKey: str().default("").describe("Sent as Authorization: Bearer and x-api-key."),
  models: z.array(nonEmpty(), { error: "Expected a list of model ids" }).describe("Models the peer serves, addressable as <peer>/<model>."),
  filters: obj({ stripParams, setParams }).prefault({}),
  timeouts: peerTimeouts.prefault({}),
});

const selectorSchema = obj({
  strategy: oneOf(["warm", "pin", "spillover"]),
  targets: z.array(nonEmpty(), { error: "Expected a list of model ids" }).min(1, { error: "Expected at least one target" }),
  settings: obj({ spillover: intAtLeast(1).default(1) }).prefault({}),
  name: str().max(128).default(""),
  description: str().max(1024).default(""),
  unlisted: bool().default(false),
  metadata: mapping().default({}),
});

const profileSchema = obj({
  description: str().max(1024).default(""),
  pins: z
    .record(nonEmpty(), str().nullable(), { error: "Expected a mapping of model ids to targets" })
    .describe("Requested id → target id; empty or null disables the id."),
});

/** The whole file. */
export const configSchema = obj({
  healthCheckTimeout: anyInt().default(120).describe("Seconds to wait for a model to become ready; values below 15 become 15."),
  logLevel: oneOf(["debug", "info", "warn", "error"]).default("info"),
  logTimeFormat: oneOf([
    "", "ansic", "unixdate", "rubydate", "rfc822", "rfc822z", "rfc850", "rfc1123", "rfc1123z",
    "rfc3339", "rfc3339nano", "kitchen", "stamp", "stampmilli", "stampmicro", "stampnano",
  ]).default(""),
  logToStdout: oneOf(["proxy", "upstream", "both", "none"]).default("proxy"),
  logFormat: oneOf(["text", "json"]).default("text").describe("modelswap: `json` writes one JSON object a line to stdout and the log streams."),
  metricsMaxInMemory: anyInt().default(1000),
  captureBuffer: intAtLeast(0).default(5).describe("Megabytes kept for request/response captures; 0 disables."),
  store: obj({ path: nonEmpty() }).optional().describe("SQLite file for persistent activity."),
  ui: obj({
    activity: obj({
      session_id: strList().default(["X-Session-ID", "X-Litellm-Session-Id"]),
    }).prefault({}),
  }).prefault({}),
  performance: obj({
    disabled: bool().default(false),
    every: str().regex(GO_DURATION, { error: 'Expected a Go duration like "5s" or "1m30s"' }).default("5s"),
  }).prefault({}),
  startPort: intAtLeast(1).default(5800).describe("First port handed out for ${PORT}."),
  sendLoadingState: bool().default(false),
  includeAliasesInList: bool().default(false),
  globalTTL: intAtLeast(0).default(0),
  unloadTimeout: intAtLeast(0).default(10),
  shutdownTimeout: intAtLeast(0).default(10).describe("modelswap: seconds a graceful shutdown waits for in-flight requests."),
  maxUploadBytes: intAtLeast(1).default(32 * 1024 * 1024).describe("modelswap: largest multipart upload in bytes."),
  cors: obj({
    allowOrigins: z
      .array(nonEmpty(), { error: "Expected a list of origins" })
      .optional()
      .describe('Origins (like "https://app.example.com") whose web pages may call modelswap; "*" allows any. Unset: every origin, as llama-swap.'),
  })
    .prefault({})
    .describe("modelswap: which web pages may call modelswap from a browser."),
  macros: macroSchema.optional(),
  apiKeys: z.array(nonEmpty(), { error: "Expected a list of strings" }).default([]),
  upstream: obj({ ignorePaths: strList().optional() }).prefault({}),
  hooks: obj({ on_startup: obj({ preload: strList().default([]) }).prefault({}) }).prefault({}),
  models: z.record(z.string(), modelSchema, { error: "Expected a mapping of model ids to models" }),
  groups: groupsSchema.optional().describe("Legacy spelling of routing.router.settings.groups."),
  matrix: matrixSchema.optional().describe("Legacy spelling of routing.router.settings.matrix."),
  resources: obj({
    vram: z
      .union([z.literal("auto"), size()], { error: 'Expected "auto" or a size like "24GiB"' })
      .optional()
      .describe('Total GPU memory models may use; "auto" reads it from nvidia-smi. Unset: not limited.'),
    ram: size().optional().describe("Total system memory models may use. Unset: not limited."),
  })
    .prefault({})
    .describe("modelswap: memory available to models (see models.*.resources)."),
  watchdog: obj({
    stallTimeout: seconds().default(0).describe("End a request whose upstream sent no byte for this many seconds (504, or an SSE error once streaming); 0 is off."),
    busyTimeout: seconds().default(0).describe("Kill and restart a model busy with no byte to any client for this many seconds; 0 is off."),
  })
    .prefault({})
    .describe("modelswap: hung-upstream watchdog, judged by bytes, not wall clock."),
  routing: obj({
    router: obj({
      use: oneOf(["group", "matrix"]).default("group"),
      settings: obj({
        groups: groupsSchema.optional(),
        matrix: matrixSchema.optional(),
        maxLoaded: intAtLeast(0).default(0).describe("modelswap: most models loaded at once outside persistent groups (least recently used idle one evicted); 0 is off."),
      }).prefault({}),
    }).prefault({}),
    scheduler: obj({
      use: oneOf(["fifo"]).default("fifo"),
      settings: obj({
        fifo: obj({
          priority: z.record(z.string(), anyInt(), { error: "Expected a mapping" }).default({}),
          maxSwapWait: seconds().default(0).describe("modelswap: seconds a swap waits for a busy model before its requests get 503; 0 waits without limit."),
        }).prefault({}),
      }).prefault({}),
    }).prefault({}),
  }).prefault({}),
  profiles: z.record(nonEmpty(), profileSchema, { error: "Expected a mapping" }).default({}),
  selectors: z.record(nonEmpty(), selectorSchema, { error: "Expected a mapping" }).default({}),
  peers: z.record(z.string(), peerSchema, { error: "Expected a mapping" }).default({}),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawModel = z.output<typeof modelSchema>;
