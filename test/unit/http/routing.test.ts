import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { poll } from "../../../src/lib/async.ts";
import { config, peer } from "./config-fixture.ts";
import { type LiveDeps, makeDeps, post, serve, servedBy, startUpstream } from "./helpers.ts";
import { startHttpServer } from "../../../src/http/index.ts";
import { SCAN_FROM_BYTES } from "../../../src/http/edge/body.ts";

const upstream = startUpstream();
const peerServer = startUpstream();
afterAll(async () => {
  await upstream.stop();
  await peerServer.stop();
});
beforeEach(() => {
  upstream.received.length = 0;
  peerServer.received.length = 0;
});

/** The front as served, every model's server at `upstream`; `autoReady` false: starts wait for the test. */
function setup(cfg = baseConfig(), autoReady = true) {
  const deps = makeDeps(servedBy(cfg, upstream.url), { autoReady });
  return { app: { request: serve(deps) }, deps };
}

/** Waits until `model` is starting or ready, then lets every start finish. */
async function finishStarts(deps: LiveDeps, model: string): Promise<void> {
  const state = async () => (await deps.scheduler.status()).find((s) => s.model === model)?.state;
  await poll(async () => (["starting", "ready"].includes((await state()) ?? "") ? true : undefined), 1, { signal: AbortSignal.timeout(5000) });
  for (const p of deps.scheduler.made) p.ready();
}

function baseConfig() {
  return config(
    {
      llama: { aliases: ["gpt-4o"] },
      renamed: { useModelName: "upstream-name" },
      filtered: {
        useModelName: "real-name",
        filters: {
          stripParams: ["model", "temperature", "top_k"],
          setParams: { model: "hijack", temperature: 0.1, top_p: 0.5 },
          setParamsByID: { "filtered:creative": { model: "hijack2", top_p: 0.9 } },
        },
      },
    },
    {
      peers: { remote: peer("remote", peerServer.url, ["big-model", "shared"], { apiKey: "peer-secret" }) },
      selectors: {
        fast: { id: "fast", strategy: "warm", targets: ["filtered", "llama"], name: "", description: "", metadata: {}, spillover: 0 },
        pinned: { id: "pinned", strategy: "pin", targets: ["gpt-4o", "filtered"], name: "", description: "", metadata: {}, spillover: 0 },
      },
    },
  );
}

function lastBody(): Record<string, unknown> {
  const r = upstream.received.at(-1);
  if (!r) throw new Error("upstream received nothing");
  return JSON.parse(new TextDecoder().decode(r.body));
}

describe("model identity", () => {
  test("an alias reaches the real model and the upstream sees the alias, as in llama-swap", async () => {
    const { app, deps } = setup();
    const res = await app.request("/v1/chat/completions", post({ model: "gpt-4o", messages: [] }));
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires.map((a) => a.model)).toEqual(["llama"]);
    expect(lastBody().model).toBe("gpt-4o");
  });

  test("unfiltered bodies are forwarded byte for byte", async () => {
    const { app } = setup();
    const raw = '{ "model" : "llama",\n  "x": [1, 2] }';
    await app.request("/v1/completions", post(raw));
    expect(new TextDecoder().decode(upstream.received.at(-1)?.body)).toBe(raw);
  });

  test("useModelName replaces the model sent upstream", async () => {
    const { app } = setup();
    await app.request("/v1/embeddings", post({ model: "renamed", input: "x" }));
    expect(lastBody()).toEqual({ model: "upstream-name", input: "x" });
  });

  test("filters run useModelName → stripParams → setParams → setParamsByID and never touch model", async () => {
    const { app, deps } = setup();
    await app.request("/v1/chat/completions", post({ model: "filtered:creative", temperature: 1, top_k: 3, keep: true }));
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("filtered");
    expect(lastBody()).toEqual({ model: "real-name", keep: true, temperature: 0.1, top_p: 0.9 });
  });

  test("stripParams cannot strip model", async () => {
    const { app } = setup(config({ m: { filters: { stripParams: ["model"], setParams: {}, setParamsByID: {} } } }));
    await app.request("/v1/chat/completions", post({ model: "m", a: 1 }));
    expect(lastBody()).toEqual({ model: "m", a: 1 });
  });

  test("a pin selector routes to its first target", async () => {
    const { app, deps } = setup();
    await app.request("/v1/chat/completions", post({ model: "pinned" }));
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("llama");
  });

  test.each([
    [{}, "filtered"],
    [{ llama: "ready" }, "llama"],
    [{ llama: "starting" }, "llama"],
    [{ llama: "starting", filtered: "ready" }, "filtered"],
  ] as const)("a warm selector with states %o picks %s", async (states, expected) => {
    const cfg = baseConfig();
    cfg.groups = { all: { id: "all", swap: false, exclusive: false, persistent: false, members: Object.keys(cfg.models) } };
    const { app, deps } = setup(cfg, false);
    for (const [m, s] of Object.entries(states)) await (s === "ready" ? deps.scheduler.ready(m) : deps.scheduler.starting(m));
    const from = deps.scheduler.events.length;
    const res = app.request("/v1/chat/completions", post({ model: "fast" }));
    await finishStarts(deps, expected);
    expect((await res).status).toBe(200);
    // The scheduler chose: its grant names the model (a model left starting also grants the lease that started it).
    const granted = deps.scheduler.events.slice(from).flatMap((e) => (e.kind === "request" && e.action === "granted" ? [e.model] : []));
    const starters = Object.entries(states).flatMap(([m, st]) => (st === "starting" ? [m] : []));
    expect(granted.sort()).toEqual([...starters, expected].sort());
  });
});

describe("selectors decided by the scheduler", () => {
  test("a warm selector names its candidates; the filters follow the scheduler's choice", async () => {
    const { app, deps } = setup();
    await deps.scheduler.ready("filtered");
    await app.request("/v1/chat/completions", post({ model: "fast", temperature: 1 }));
    expect(deps.scheduler.acquires.at(-1)?.options.select).toEqual({ strategy: "warm", targets: ["filtered", "llama"], peers: [], reserve: 0 });
    expect(lastBody()).toEqual({ model: "real-name", temperature: 0.1, top_p: 0.5 });
  });

  test("a large body its pick's filters cannot parse is a 400, and the pick's lease goes back", async () => {
    const { app, deps } = setup();
    await deps.scheduler.ready("filtered");
    // Read by its top-level keys it routes; the filters of the scheduler's pick need the whole object.
    const body = `{"model":"fast","x":[01],"messages":[{"role":"user","content":"${"y".repeat(SCAN_FROM_BYTES)}"}]}`;
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    await poll(async () => ((await deps.scheduler.status()).find((s) => s.model === "filtered")?.inFlight === 0 ? true : undefined), 5, { signal: AbortSignal.timeout(10_000) });
  });

  test("a spillover selector the scheduler routes to a peer goes there, with the peer's key", async () => {
    const cfg = baseConfig();
    cfg.selectors.spill = { id: "spill", strategy: "spillover", targets: ["llama", "remote/big-model"], name: "", description: "", metadata: {}, spillover: 1 };
    const { app, deps } = setup(cfg);
    await deps.scheduler.ready("llama");
    const held = await deps.scheduler.acquire("llama");
    const res = await app.request("/v1/chat/completions", post({ model: "spill" }));
    expect(res.status).toBe(200);
    expect(peerServer.received.at(-1)?.headers.get("authorization")).toBe("Bearer peer-secret");
    expect(JSON.parse(new TextDecoder().decode(peerServer.received.at(-1)?.body)).model).toBe("big-model");
    held.release();
  });
});

describe("keep_alive", () => {
  test.each([
    [300, 300_000],
    ["10m", 600_000],
    [-1, -1000],
    [0, 0],
  ])("keep_alive %j reaches the scheduler as %d ms and never the upstream", async (value, ms) => {
    const { app, deps } = setup();
    const res = await app.request("/v1/chat/completions", post({ model: "llama", keep_alive: value, messages: [] }));
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.options.keepAliveMs).toBe(ms);
    expect(lastBody()).toEqual({ model: "llama", messages: [] });
  });

  test("a bad keep_alive is a 400 naming it", async () => {
    const { app, deps } = setup();
    const res = await app.request("/v1/chat/completions", post({ model: "llama", keep_alive: "soon" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: Record<string, string> }).error).toEqual({
      code: "invalid_keep_alive",
      type: "invalid_request_error",
      message: 'Cannot use keep_alive: expected seconds or a duration like "10m", got "soon"',
    });
    expect(deps.scheduler.acquires).toHaveLength(0);
  });

  test("without keep_alive the model's ttl applies (nothing sent)", async () => {
    const { app, deps } = setup();
    await app.request("/v1/chat/completions", post({ model: "llama" }));
    expect(deps.scheduler.acquires.at(-1)?.options.keepAliveMs).toBeUndefined();
  });
});

describe("peers", () => {
  test.each([["remote/big-model"], ["big-model"]])("%s goes to the peer with its key, without the scheduler", async (name) => {
    const { app, deps } = setup();
    const res = await app.request("/v1/chat/completions", post({ model: name }, { Authorization: "Bearer client-key" }));
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires).toHaveLength(0);
    const r = peerServer.received.at(-1);
    expect(r?.headers.get("authorization")).toBe("Bearer peer-secret");
    expect(r?.headers.get("x-api-key")).toBe("peer-secret");
    expect(JSON.parse(new TextDecoder().decode(r?.body)).model).toBe("big-model");
  });
});

describe("multipart and query endpoints", () => {
  test("a multipart model field is rewritten by useModelName and the file passes through", async () => {
    const { app, deps } = setup();
    const form = new FormData();
    form.set("model", "renamed");
    form.set("file", new Blob([new Uint8Array([1, 2, 3])], { type: "audio/wav" }), "a.wav");
    const res = await app.request("/v1/audio/transcriptions", { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("renamed");
    const r = upstream.received.at(-1);
    if (!r) throw new Error("nothing received");
    const got = await new Response(r.body, { headers: { "content-type": r.headers.get("content-type") ?? "" } }).formData();
    expect(got.get("model")).toBe("upstream-name");
    const file = got.get("file") as File;
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("an upload above maxUploadBytes is 413", async () => {
    const { app } = setup({ ...baseConfig(), maxUploadBytes: 1024 });
    const form = new FormData();
    form.set("model", "llama");
    form.set("file", new Blob([new Uint8Array(4096)]), "big.bin");
    const res = await app.request("/v1/images/edits", { method: "POST", body: form });
    expect(res.status).toBe(413);
  });

  test("a form without model is 400", async () => {
    const form = new FormData();
    form.set("prompt", "x");
    const res = await setup().app.request("/v1/images/edits", { method: "POST", body: form });
    expect(res.status).toBe(400);
  });

  test("?model= routes GET endpoints and keeps the query", async () => {
    const { app, deps } = setup();
    const res = await app.request("/sdapi/v1/loras?model=gpt-4o&x=1");
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("llama");
    expect(upstream.received.at(-1)).toMatchObject({ method: "GET", path: "/sdapi/v1/loras", search: "?model=gpt-4o&x=1" });
  });

  test("a GET without ?model= is 400", async () => {
    expect((await setup().app.request("/props")).status).toBe(400);
  });
});

describe("/upstream passthrough", () => {
  const cfg = () => config({ "org/model": {}, llama: { aliases: ["org"] } }, { ignorePaths: ["^/metrics$"] });

  test.each([
    ["GET", 301],
    ["POST", 308],
  ] as const)("%s /upstream/<model> redirects %d to the trailing slash", async (method, status) => {
    const res = await setup(cfg()).app.request("/upstream/llama?a=1", { method });
    expect(res.status).toBe(status);
    expect(res.headers.get("location")).toBe("/upstream/llama/?a=1");
  });

  test("the longest configured id wins and the rest of the path goes upstream", async () => {
    const { app, deps } = setup(cfg());
    const res = await app.request("/upstream/org/model/v1/slots?id=2", post({ any: "thing" }));
    expect(res.status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("org/model");
    expect(upstream.received.at(-1)).toMatchObject({ method: "POST", path: "/v1/slots", search: "?id=2" });
    expect(new TextDecoder().decode(upstream.received.at(-1)?.body)).toBe('{"any":"thing"}');
  });

  test("an alias prefix routes to its model", async () => {
    const { app, deps } = setup(cfg());
    await app.request("/upstream/org/health");
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("llama");
  });

  test("ignorePaths never start a model: 409 when it is not running", async () => {
    const { app, deps } = setup(cfg());
    const res = await app.request("/upstream/llama/metrics");
    expect(res.status).toBe(409);
    expect(deps.scheduler.acquires.at(-1)?.options.noStart).toBe(true);
    await deps.scheduler.ready("llama");
    expect((await app.request("/upstream/llama/metrics")).status).toBe(200);
  });

  test("an unknown model in the path is 404 model_not_found, no model at all 400 missing_model", async () => {
    const { app } = setup(cfg());
    const unknown = await app.request("/upstream/nope/x");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const none = await app.request("/upstream/");
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("missing_model");
  });
});

describe("one code path for JSON inference", () => {
  /** Deps with every model at `upstream` and `apiKeys`; their log hub is real, so request lines can be counted. */
  const logged = (apiKeys: string[] = []) => makeDeps(servedBy({ ...baseConfig(), apiKeys }, upstream.url));
  /** `"POST /path" status` of every request line so far, once `n` of them are there (proxied lines are written when the body ended). */
  const requestLines = async (deps: LiveDeps, n: number) => {
    const lines = () =>
      deps.logs
        .history({ kind: "proxy" })
        .map((l) => /Request \S+ "(\S+ \S+) HTTP\/1\.1" (\d+)/.exec(l.text))
        .filter((m) => m !== null)
        .map((m) => `${m[1]} ${m[2]}`);
    await poll(() => (lines().length >= n ? true : undefined), 5, { signal: AbortSignal.timeout(5000) }).catch(() => {});
    return lines();
  };

  test("through hono (createFetch) a JSON POST writes exactly one request log line", async () => {
    const deps = logged();
    const res = await serve(deps)("/v1/chat/completions", post({ model: "llama" }));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(await requestLines(deps, 1)).toEqual(["POST /v1/chat/completions 200"]);
  });

  test("through Bun.serve's routes the same endpoint answers, logs once and checks keys", async () => {
    const deps = logged(["sk-one"]);
    const server = startHttpServer({ ...deps, hostname: "127.0.0.1", port: 0 });
    try {
      const denied = await fetch(`${server.url}/v1/chat/completions`, post({ model: "llama" }));
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
      const ok = await fetch(`${server.url}/v1/chat/completions`, post({ model: "llama" }, { Authorization: "Bearer sk-one" }));
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      // A %-escaped spelling misses Bun's exact routes and reaches the same endpoint through hono.
      const escaped = await fetch(`${server.url}/v1/chat/%63ompletions`, post({ model: "llama" }, { Authorization: "Bearer sk-one" }));
      expect(escaped.status).toBe(200);
      await escaped.arrayBuffer();
      expect(await requestLines(deps, 3)).toEqual(["POST /v1/chat/completions 401", "POST /v1/chat/completions 200", "POST /v1/chat/completions 200"]);
    } finally {
      await server.close();
      await deps.scheduler.shutdown(0);
    }
  });
});
