import { describe, expect, test } from "bun:test";
import { createApp } from "../../../src/http/app.ts";
import { config, peer } from "./config-fixture.ts";
import { makeDeps } from "./helpers.ts";

function setup(includeAliasesInList = false) {
  const cfg = config(
    {
      zeta: { name: "Zeta", description: " the last ", metadata: { family: "z" }, aliases: ["alpha-alias"] },
      beta: { capabilities: { in: ["text"], out: ["text"], tools: true, reranker: false, context: 8192 } },
      hidden: { unlisted: true },
    },
    { includeAliasesInList, peers: { p1: peer("p1", "http://127.0.0.1:1", ["remote-m"]) } },
  );
  const deps = makeDeps(cfg);
  deps.scheduler.states.set("zeta", "ready");
  deps.scheduler.states.set("beta", "stopped");
  deps.scheduler.states.set("hidden", "starting");
  return { app: createApp(deps), deps };
}

type Row = Record<string, unknown> & { id: string };

describe("GET /v1/models", () => {
  test("lists listed models and peers sorted by id, with llama-swap's fields and status", async () => {
    const res = await setup().app.request("/v1/models", { headers: { Origin: "http://ui.example" } });
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
    const body = (await (await setup(true).app.request("/models")).json()) as { data: Row[] };
    expect(body.data.map((r) => r.id)).toEqual(["alpha-alias", "beta", "p1/remote-m", "zeta"]);
  });
});

describe("GET /running", () => {
  test("lists starting and ready models in llama-swap's shape", async () => {
    const body = await (await setup().app.request("/running")).json();
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
    const { app, deps } = setup();
    const res = await app.request("/api/models/unload", { method: "POST" });
    expect(res.status).toBe(200);
    expect(deps.scheduler.unloads).toEqual([null]);
  });

  test("POST /api/models/unload/:model accepts aliases", async () => {
    const { app, deps } = setup();
    const res = await app.request("/api/models/unload/alpha-alias", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
    expect(deps.scheduler.unloads).toEqual(["zeta"]);
  });

  test("an unknown model is 404", async () => {
    const { app, deps } = setup();
    expect((await app.request("/api/models/unload/nope", { method: "POST" })).status).toBe(404);
    expect(deps.scheduler.unloads).toEqual([]);
  });

  test("legacy GET /unload unloads everything", async () => {
    const { app, deps } = setup();
    const res = await app.request("/unload");
    expect(await res.text()).toBe("OK");
    expect(deps.scheduler.unloads).toEqual([null]);
  });
});

test("GET /health answers OK", async () => {
  const res = await setup().app.request("/health");
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("OK");
});

test("a model with replicas lists once, as loaded as its readiest replica; replicas stay unlisted", async () => {
  const cfg = config({ m: { replicas: ["m@1", "m@2"] }, "m@1": { replicaOf: "m", unlisted: true }, "m@2": { replicaOf: "m", unlisted: true } });
  const deps = makeDeps(cfg);
  deps.scheduler.states.set("m@1", "stopped");
  deps.scheduler.states.set("m@2", "ready");
  const body = (await (await createApp(deps).request("/v1/models")).json()) as { data: Array<{ id: string; status: { value: string } }> };
  expect(body.data.map((r) => [r.id, r.status.value])).toEqual([["m", "loaded"]]);
});
