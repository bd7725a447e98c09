/**
 * llama-swap's own documented example, read from the shared fixtures at test
 * time (never copied into the project).
 *
 * The example names models it never defines ("illustrative") in groups,
 * preload, selectors, profile pins and fifo priorities, and its
 * `unlisted-model` has no `${PORT}` and no proxy. llama-swap itself rejects
 * that file too (its loader errors on a proxy using ${PORT} when cmd does not,
 * on unknown priority models, unknown selector targets and unknown profile
 * targets), so the first test expects exactly those problems; the second
 * defines the missing models and checks how everything else resolves.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError, parseConfigText } from "../../../src/config/index.ts";
import { SELF } from "./helpers.ts";
import { sharedFile } from "../../helpers/shared-dir.ts";

const PATH = sharedFile("fixtures/llama-swap/config.example.yaml");
const ENV = { HOME: "/home/tester", API_KEY_1: "sk-first", API_KEY_2: "sk-second", OPENROUTER_API_KEY: "sk-or-test" };
const text = readFileSync(PATH, "utf8");

describe("llama-swap's config.example.yaml", () => {
  test("as written, it is rejected only where llama-swap rejects it too: its illustrative, undefined models", () => {
    let error: unknown;
    try {
      parseConfigText(text, "example.yaml", { selfCommand: SELF, env: ENV });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((i) => `${i.path}: ${i.message.split(":")[0]}`);
    expect(issues).toEqual([
      "profiles.coding.pins.llm-plan: Define the model or fix the pin",
      "selectors.coding-model.targets[1]: Define the model or fix the target",
      "selectors.llama.targets[1]: Define the model or fix the target",
      "selectors.llama.targets[2]: Define the model or fix the target",
      "models.unlisted-model: Set `proxy`",
      "routing.scheduler.settings.fifo.priority.A: Define the model or remove its priority",
      "routing.scheduler.settings.fifo.priority.B: Define the model or remove its priority",
      "routing.scheduler.settings.fifo.priority.C: Define the model or remove its priority",
      "routing.scheduler.settings.fifo.priority.D: Define the model or remove its priority",
    ]);
  });

  describe("with the illustrative models defined, every key resolves", () => {
    const stubs = ["llama-model", "qwen-unlisted", "modelA", "modelB", "forever-modelA", "forever-modelB", "forever-modelc", "A", "B", "C", "D"]
      .map((id) => `  "${id}":\n    cmd: stub-server --port \${PORT}\n`)
      .join("");
    const patched = text
      .replace(/^models:\n/m, `models:\n${stubs}`)
      .replace("    cmd: some-upstream-server\n", "    cmd: some-upstream-server\n    proxy: http://127.0.0.1:7777\n")
      .replaceAll(/- "llama"$/gm, '- "llama-model"');
    const c = parseConfigText(patched, "example.yaml", { selfCommand: SELF, env: ENV });

    test("global keys", () => {
      expect(c).toMatchObject({
        healthCheckTimeout: 500,
        logLevel: "info",
        logTimeFormat: "",
        logToStdout: "proxy",
        metricsMaxInMemory: 1000,
        captureBuffer: 15,
        startPort: 10001,
        sendLoadingState: true,
        includeAliasesInList: false,
        globalTTL: 0,
        unloadTimeout: 10,
        apiKeys: ["sk-hunter2", "sk-gyCPiKUcIfPlaM4OSMZekkprgijPx6+OsmQs8Rsg0xZ9qpy6gKWsIKqHOk+cgXVx", "sk-first", "sk-second"],
        ignorePaths: [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$", "^\\/ws$|^\\/api\\/jobs$"],
        preload: ["llama-model"],
        router: "group",
        performance: { disabled: false, every: "15s" },
        ui: { sessionIdHeaders: ["X-Session-ID", "X-Litellm-Session-Id"] },
        priority: { A: 10, B: 5, C: 5, D: 1 },
        store: null,
        matrix: null,
      });
      // Keys llama-swap has and modelswap cannot honour are reported, at their position, with the reason
      // (connect and keepalive work for the plain-HTTP model; the https: peer goes over fetch, which has neither).
      expect(c.warnings.map((w) => w.split(" (it has no effect)")[0])).toEqual([
        "example.yaml:73:5: ui.activity.session_id: Remove `session_id`",
        "example.yaml:445:7: models.gpt-oss-120b.timeouts.tlsHandshake: Remove `tlsHandshake`",
        "example.yaml:446:7: models.gpt-oss-120b.timeouts.idleConn: Remove `idleConn`",
        "example.yaml:738:7: peers.openrouter.timeouts.connect: Remove `connect`",
        "example.yaml:739:7: peers.openrouter.timeouts.keepalive: Remove `keepalive`",
        "example.yaml:741:7: peers.openrouter.timeouts.tlsHandshake: Remove `tlsHandshake`",
        "example.yaml:742:7: peers.openrouter.timeouts.idleConn: Remove `idleConn`",
      ]);
      expect(Object.keys(c.groups)).toEqual(["group1", "group2", "forever"]);
      expect(c.groups.forever).toMatchObject({ persistent: true, swap: false, exclusive: false });
    });

    test("the fully featured model", () => {
      const m = c.models["gpt-oss-120b"];
      expect(m?.cmd).toEqual([
        "/path/to/llama-server/llama-server-ec9e0301", "--port", "10009",
        "--model", "path/to/gpt-oss-120B.gguf", "--ctx-size", "16384", "--temperature", "0.7",
      ]);
      expect(m).toMatchObject({
        port: 10009,
        proxy: "http://127.0.0.1:8999",
        checkEndpoint: "/custom-endpoint",
        ttl: 60,
        unloadTimeout: 10,
        env: { CUDA_VISIBLE_DEVICES: "0,1,2" },
        aliases: ["gpt-4o-mini", "gpt-oss-120b:high", "gpt-oss-120b:low"],
        useModelName: "openai/gpt-oss-120B",
        concurrencyLimit: 10,
        sendLoadingState: false,
        ignoreWebsockets: true,
        name: "gpt-oss 120B",
        timeouts: { connect: 30, keepalive: 0, responseHeader: 60, tlsHandshake: 10, idleConn: 90 },
        capabilities: { in: ["text", "audio", "image"], out: ["text", "audio", "image"], tools: true, reranker: false, context: 32000 },
      });
      expect(m?.filters.stripParams).toEqual(["temperature", "top_p", "top_k"]);
      expect(Object.keys(m?.filters.setParamsByID ?? {})).toEqual(["gpt-oss-120b", "gpt-oss-120b:high", "gpt-oss-120b:low"]);
      expect(m?.metadata).toEqual({
        port: 10009,
        temperature: 0.7,
        note: "The gpt-oss-120b is running on port 10009 temp=0.7, context=16384",
        a_list: [1, 1.23, "macros are OK in list and dictionary types: gpt-oss-120b"],
        an_obj: { a: "1", b: 2, c: [0.7, false, "model: gpt-oss-120b"] },
      });
    });

    test("docker model: MODEL_ID in cmd and cmdStop", () => {
      const m = c.models["docker-llama"];
      expect(m?.cmd.slice(0, 4)).toEqual(["docker", "run", "--name", "docker-llama"]);
      expect(m?.cmd).toContain("/models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf");
      expect(m?.cmdStop).toEqual(["docker", "stop", "docker-llama"]);
      expect(m?.proxy).toBe(`http://127.0.0.1:${m?.port}`);
    });

    test("profiles, selectors and peers", () => {
      expect(c.profiles.coding?.pins).toEqual({ "llm-code": "gpt-oss-120b", "llm-plan": "qwen-unlisted", "image-gen": null });
      expect(c.selectors.llama).toMatchObject({ strategy: "spillover", spillover: 4, targets: ["docker-llama", "modelA", "modelB"] });
      expect(c.selectors["coding-model"]).toMatchObject({ strategy: "warm", spillover: 1, name: "Coding Model", metadata: { purpose: "coding" } });
      expect(c.peers.openrouter).toMatchObject({
        proxy: "https://openrouter.ai/api",
        apiKey: "sk-or-test",
        filters: { stripParams: ["temperature", "top_p"], setParams: { provider: { data_collection: "deny", zdr: true } } },
      });
      expect(c.peers["llama-swap-peer"]?.models).toEqual(["model_a", "model_b", "embeddings/model_c"]);
    });
  });
});
