import { describe, expect, test } from "bun:test";
import { load } from "./helpers.ts";

const MINIMAL = `
models:
  tiny:
    cmd: fake-server --port \${PORT}
`;

describe("a minimal config gets llama-swap's defaults", () => {
  const c = load(MINIMAL);

  test("global keys", () => {
    expect(c).toMatchObject({
      file: "test.yaml",
      healthCheckTimeout: 120,
      logLevel: "info",
      logTimeFormat: "",
      logToStdout: "proxy",
      metricsMaxInMemory: 1000,
      captureBuffer: 5,
      startPort: 5800,
      sendLoadingState: false,
      includeAliasesInList: false,
      globalTTL: 0,
      unloadTimeout: 10,
      shutdownTimeout: 10,
      maxUploadBytes: 32 * 1024 * 1024,
      apiKeys: [],
      ignorePaths: [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$"],
      preload: [],
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
      performance: { disabled: false, every: "5s" },
      store: null,
      ui: { sessionIdHeaders: ["X-Session-ID", "X-Litellm-Session-Id"] },
      warnings: [],
    });
  });

  test("model keys", () => {
    expect(c.models.tiny).toEqual({
      id: "tiny",
      cmd: ["fake-server", "--port", "5800"],
      cmdText: "fake-server --port 5800",
      cmdStop: null,
      proxy: "http://127.0.0.1:5800",
      checkEndpoint: "/health",
      port: 5800,
      ttl: 0,
      unloadTimeout: 10,
      restart: "on-demand",
      env: {},
      aliases: [],
      useModelName: "",
      filters: { stripParams: [], setParams: {}, setParamsByID: {} },
      unlisted: false,
      concurrencyLimit: 10,
      sendLoadingState: false,
      timeouts: { connect: 30, keepalive: 30, responseHeader: 0, tlsHandshake: 10, idleConn: 90 },
      capabilities: null,
      metadata: {},
      name: "",
      description: "",
      ignoreWebsockets: false,
      resources: { vram: 0, ram: 0 },
      watchdog: { stallTimeout: 0, busyTimeout: 0 },
      replicas: [],
      replicaOf: null,
    });
  });
});

describe("global keys", () => {
  test.each([
    [5, 15],
    [15, 15],
    [300, 300],
  ])("healthCheckTimeout %d becomes %d (minimum 15)", (given, expected) => {
    expect(load(`healthCheckTimeout: ${given}\n${MINIMAL}`).healthCheckTimeout).toBe(expected);
  });

  test("unloadTimeout 0 means the default of 10", () => {
    expect(load(`unloadTimeout: 0\n${MINIMAL}`).unloadTimeout).toBe(10);
  });

  test("every global key is read", () => {
    const c = load(`
healthCheckTimeout: 60
logLevel: debug
logTimeFormat: rfc3339
logToStdout: both
metricsMaxInMemory: 50
captureBuffer: 0
startPort: 9100
sendLoadingState: true
includeAliasesInList: true
globalTTL: 300
unloadTimeout: 4
shutdownTimeout: 3
maxUploadBytes: 1024
apiKeys: [sk-one, sk-two]
upstream:
  ignorePaths: ['^/static/']
hooks:
  on_startup:
    preload: [" tiny "]
performance:
  disabled: true
  every: 1m30s
store:
  path: /var/lib/modelswap/activity.sqlite
ui:
  activity:
    session_id: [X-Conversation, " x-conversation ", "", X-Other]
${MINIMAL}`);
    expect(c).toMatchObject({
      healthCheckTimeout: 60,
      logLevel: "debug",
      logTimeFormat: "rfc3339",
      logToStdout: "both",
      metricsMaxInMemory: 50,
      captureBuffer: 0,
      startPort: 9100,
      sendLoadingState: true,
      includeAliasesInList: true,
      globalTTL: 300,
      unloadTimeout: 4,
      shutdownTimeout: 3,
      maxUploadBytes: 1024,
      apiKeys: ["sk-one", "sk-two"],
      ignorePaths: ["^/static/"],
      preload: ["tiny"],
      performance: { disabled: true, every: "1m30s" },
      store: { path: "/var/lib/modelswap/activity.sqlite" },
      ui: { sessionIdHeaders: ["X-Conversation", "X-Other"] },
    });
    expect(c.models.tiny?.port).toBe(9100);
    expect(c.models.tiny?.sendLoadingState).toBe(true);
    expect(c.models.tiny?.ttl).toBe(300);
  });

  test("an empty ignorePaths list falls back to the default, as in llama-swap", () => {
    expect(load(`upstream:\n  ignorePaths: []\n${MINIMAL}`).ignorePaths).toEqual([".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$"]);
  });
});

describe("model keys", () => {
  const c = load(`
globalTTL: 120
unloadTimeout: 7
sendLoadingState: true
models:
  full:
    cmd: |
      # the server binary
      /opt/bin/server
        --port 7001 \\
        --model "/models/My Model.gguf"
    cmdStop: kill -TERM \${PID}
    proxy: http://127.0.0.1:7001/
    checkEndpoint: none
    ttl: 30
    unloadTimeout: 3
    env: ["CUDA_VISIBLE_DEVICES=0,1", "EMPTY=", "WITH_EQUALS=a=b"]
    aliases: [big-one, "other name"]
    useModelName: vendor/full-model
    filters:
      stripParams: "temperature, top_p ,model,,top_k"
      setParams:
        temperature: 0.2
        tags: [a, b]
      setParamsByID:
        "full:fast":
          reasoning: low
    unlisted: true
    concurrencyLimit: 3
    sendLoadingState: false
    timeouts:
      connect: 5
      keepalive: 0
      responseHeader: 120
      tlsHandshake: 2
      idleConn: 10
      expectContinue: 2
    capabilities:
      in: [text, image]
      out: [text]
      tools: true
      reranker: false
      context: 8192
    metadata:
      family: test
      nested: { list: [1, 2] }
    name: Full model
    description: Uses every key
    compat:
      ignoreWebsockets: true
  inherits:
    cmd: server --port \${PORT}
    ttl: -1
    concurrencyLimit: 0
    capabilities: { tools: false }
  never:
    cmd: server --port \${PORT}
    ttl: 0
`);
  const m = c.models.full;

  test("commands are split, comments removed, PID left for the supervisor", () => {
    expect(m?.cmd).toEqual(["/opt/bin/server", "--port", "7001", "--model", "/models/My Model.gguf"]);
    expect(m?.cmdText).toBe(`/opt/bin/server --port 7001 --model "/models/My Model.gguf"`);
    expect(m?.cmdStop).toEqual(["kill", "-TERM", "${PID}"]);
    expect(m?.port).toBeNull();
  });

  test("proxy loses its trailing slash; checkEndpoint none is null", () => {
    expect(m?.proxy).toBe("http://127.0.0.1:7001");
    expect(m?.checkEndpoint).toBeNull();
  });

  test("scalars, env, filters, timeouts, capabilities, metadata", () => {
    expect(m).toMatchObject({
      ttl: 30,
      unloadTimeout: 3,
      env: { CUDA_VISIBLE_DEVICES: "0,1", EMPTY: "", WITH_EQUALS: "a=b" },
      aliases: ["big-one", "other name", "full:fast"],
      useModelName: "vendor/full-model",
      filters: {
        stripParams: ["temperature", "top_p", "top_k"],
        setParams: { temperature: 0.2, tags: ["a", "b"] },
        setParamsByID: { "full:fast": { reasoning: "low" } },
      },
      unlisted: true,
      concurrencyLimit: 3,
      sendLoadingState: false,
      timeouts: { connect: 5, keepalive: 0, responseHeader: 120, tlsHandshake: 2, idleConn: 10 },
      capabilities: { in: ["text", "image"], out: ["text"], tools: true, reranker: false, context: 8192 },
      metadata: { family: "test", nested: { list: [1, 2] } },
      name: "Full model",
      description: "Uses every key",
      ignoreWebsockets: true,
    });
  });

  test("ttl -1 uses globalTTL, ttl 0 never unloads, unloadTimeout 0 uses the global one", () => {
    expect(c.models.inherits?.ttl).toBe(120);
    expect(c.models.never?.ttl).toBe(0);
    expect(c.models.inherits?.unloadTimeout).toBe(7);
  });

  test("concurrencyLimit 0 is the default 10; unset sendLoadingState follows the global", () => {
    expect(c.models.inherits?.concurrencyLimit).toBe(10);
    expect(c.models.inherits?.sendLoadingState).toBe(true);
  });

  test("all-zero capabilities count as none", () => {
    expect(c.models.inherits?.capabilities).toBeNull();
  });
});
