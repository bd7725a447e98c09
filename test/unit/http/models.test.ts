import { describe, expect, test } from "bun:test";
import { config, peer } from "./config-fixture.ts";
import { makeDeps, serve } from "./helpers.ts";

/** zeta ready, beta stopped, hidden starting: one group whose members run together. */
async function setup(includeAliasesInList = false) {
  const cfg = config(
    {
      zeta: { name: "Zeta", description: " the last ", metadata: { family: "z" }, aliases: ["alpha-alias"] },
      beta: { capabilities: { in: ["text"], out: ["text"], tools: true, reranker: false, context: 8192 } },
      hidden: { unlisted: true },
    },
    {
      includeAliasesInList,
      peers: { p1: peer("p1", "http://127.0.0.1:1", ["remote-m"]) },
      groups: { all: { id: "all", swap: false, exclusive: false, persistent: false, members: ["zeta", "beta", "hidden"] } },
    },
  );
  const deps = makeDeps(cfg, { autoReady: false });
  await deps.scheduler.ready("zeta");
  await deps.scheduler.starting("hidden");
  return { app: { request: serve(deps) }, deps };
}

/** The models the core stopped for an unload, from its state events. */
const unloaded = (deps: Awaited<ReturnType<typeof setup>>["deps"]) =>
  deps.scheduler.events.flatMap((e) => (e.kind === "modelState" && e.state === "stopping" && e.detail === "unload" ? [e.model] : []));

type Row = Record<string, unknown> & { id: string };

describe("GET /v1/models", () => {
  test("lists listed models and peers sorted by id, with llama-swap's fields and status", async () => {
    const res = await (await setup()).app.request("/v1/models", { headers: { Origin: "http://ui.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://ui.example");
    const body = (await res.json()) as { object: string; data: Row[] };
    expect(body.object).toBe("list");
    expect(body.data.map((r) => r.id)).toEqual(["beta", "p1/remote-m", "zeta"]);
    const zeta = body.data.find((r) => r.id === "zeta");
    expect(zeta).toMatchObject({ object: "model", owned_by: "modelswap", name: "Zeta", description: "the last", meta: { llamaswap: { family: "z" } }, status: { value: "loaded" } });
    expect(typeof zeta?.created).toBe("number");
    const beta = body.data.find((r) => r.id === "beta");
    expect(beta).toMatchObject({ status: { value: "unloaded" }, meta: { llamaswap: { capabilities: { tools: true, context: 8192 } } } });
    expect(beta).not.toHaveProperty("name");
    expect(body.data.find((r) => r.id === "p1/remote-m")).toMatchObject({ name: "p1: remote-m", meta: { llamaswap: { peerID: "p1" } } });
  });

  test("includes aliases when includeAliasesInList is set", async () => {
    const body = (await (await (await setup(true)).app.request("/models")).json()) as { data: Row[] };
    expect(body.data.map((r) => r.id)).toEqual(["alpha-alias", "beta", "p1/remote-m", "zeta"]);
  });
});

describe("GET /running", () => {
  test("lists starting and ready models in llama-swap's shape", async () => {
    const body = await (await (await setup()).app.request("/running")).json();
    expect(body).toEqual({
      running: [
        { model: "hidden", state: "starting", cmd: "llama-server --port 9999", proxy: "http://127.0.0.1:9999", ttl: 0, name: "", description: "" },
        { model: "zeta", state: "ready", cmd: "llama-server --port 9999", proxy: "http://127.0.0.1:9999", ttl: 0, name: "Zeta", description: " the last " },
      ],
    });
  });
});

describe("unload", () => {
  test("POST /api/models/unload unloads everything", async () => {
    const { app, deps } = await setup();
    const res = await app.request("/api/models/unload", { method: "POST" });
    expect(res.status).toBe(200);
    expect(unloaded(deps).sort()).toEqual(["hidden", "zeta"]);
    expect((await deps.scheduler.status()).map((s) => s.state)).toEqual(["stopped", "stopped", "stopped"]);
  });

  test("POST /api/models/unload/:model accepts aliases", async () => {
    const { app, deps } = await setup();
    const res = await app.request("/api/models/unload/alpha-alias", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
    expect(unloaded(deps)).toEqual(["zeta"]);
  });

  test("an unknown model is 404", async () => {
    const { app, deps } = await setup();
    expect((await app.request("/api/models/unload/nope", { method: "POST" })).status).toBe(404);
    const states = Object.fromEntries((await deps.scheduler.status()).map((s) => [s.model, s.state]));
    expect(states).toEqual({ beta: "stopped", hidden: "starting", zeta: "ready" });
    expect(unloaded(deps)).toEqual([]);
  });

  test("legacy GET /unload unloads everything", async () => {
    const { app, deps } = await setup();
    const res = await app.request("/unload");
    expect(await res.text()).toBe("OK");
    expect(unloaded(deps).sort()).toEqual(["hidden", "zeta"]);
  });
});

test("GET /health answers OK", async () => {
  const res = await (await setup()).app.request("/health");
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("OK");
});

test("a model with replicas lists once, as loaded as its readiest replica; replicas stay unlisted", async () => {
  const cfg = config({ m: { replicas: ["m@1", "m@2"] }, "m@1": { replicaOf: "m", unlisted: true }, "m@2": { replicaOf: "m", unlisted: true } });
  const deps = makeDeps(cfg);
  await deps.scheduler.ready("m@2");
  const body = (await (await serve(deps)("/v1/models")).json()) as { data: Array<{ id: string; status: { value: string } }> };
  expect(body.data.map((r) => [r.id, r.status.value])).toEqual([["m", "loaded"]]);
});
