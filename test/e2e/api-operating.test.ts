/**
 * The operating endpoints end to end, in llama-swap's shapes: `/v1/models`
 * (sorted, status, unlisted, aliases, Origin), `/running`, unloading (and the
 * legacy `GET /unload`), `/health`, `/logs`, `/logs/stream/:model` and
 * `/api/events`, against real model processes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { findPids, waitGone } from "../helpers/processes.ts";
import { type ApiServer, echoOf, postJson, readUntil, startApiServer } from "./api-harness.ts";

let s: ApiServer;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `includeAliasesInList: true
models:
  zeta:
    cmd: ${fake()}
  alpha:
    cmd: ${fake("--tokens 3 --token-interval 0 --verbose")}
    aliases: [a1]
    name: Alpha
    description: The first one
    metadata: { family: test }
  beta:
    cmd: ${fake()}
  hidden:
    cmd: ${fake()}
    unlisted: true
groups:
  all:
    swap: false
    members: [zeta, alpha, beta, hidden]
`,
  );
});

afterAll(() => s.stop());

interface ModelRow {
  id: string;
  object: string;
  owned_by: string;
  name?: string;
  description?: string;
  meta?: { llamaswap: Record<string, unknown> };
  status: { value: string };
}
interface RunningRow {
  model: string;
  state: string;
  cmd: string;
  proxy: string;
  ttl: number;
  name: string;
  description: string;
}

const models = async (headers: Record<string, string> = {}) => {
  const res = await fetch(`${s.url}/v1/models`, { headers });
  return { res, body: (await res.json()) as { object: string; data: ModelRow[] } };
};
const running = async () => ((await (await fetch(`${s.url}/running`)).json()) as { running: RunningRow[] }).running;

describe("/v1/models and /running", () => {
  test("lists listed models and aliases sorted by id, all unloaded at first, unlisted hidden", async () => {
    const { body } = await models();
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["a1", "alpha", "beta", "zeta"]);
    expect(body.data.every((m) => m.status.value === "unloaded" && m.object === "model")).toBe(true);
    expect(body.data.find((m) => m.id === "alpha")).toMatchObject({ name: "Alpha", description: "The first one", meta: { llamaswap: { family: "test" } } });
    expect(await running()).toEqual([]);
  });

  test("a request loads its model: status loaded, and /running shows it in llama-swap's shape", async () => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "a1", messages: [] }));
    // The marker that afterAll's leftover check looks for is really on the model processes.
    expect(s.modelPids().length).toBeGreaterThan(0);
    const { body } = await models();
    expect(body.data.find((m) => m.id === "alpha")?.status.value).toBe("loaded");
    expect(body.data.find((m) => m.id === "beta")?.status.value).toBe("unloaded");
    const rows = await running();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: "alpha", state: "ready", name: "Alpha", description: "The first one", ttl: 0 });
    expect(rows[0]?.cmd).toContain("fake-upstream --port");
    expect(rows[0]?.proxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("an unlisted model still serves requests", async () => {
    expect((await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "hidden", messages: [] }))).body.model).toBe("hidden");
  });

  test("the Origin header is echoed for browsers", async () => {
    const { res } = await models({ origin: "http://ui.example:3000" });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://ui.example:3000");
  });
});

describe("unloading", () => {
  /** Pids of the model process listening on the port in `/running`'s proxy URL. */
  const pidsOf = async (model: string) => {
    const row = (await running()).find((r) => r.model === model);
    if (!row) throw new Error(`Expected ${model} to be running`);
    return findPids(`--port ${new URL(row.proxy).port}`);
  };

  test("POST /api/models/unload/:model stops that model's process and only that one", async () => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "beta", messages: [] }));
    const pids = await pidsOf("beta");
    expect(pids.length).toBeGreaterThan(0);
    const res = await fetch(`${s.url}/api/models/unload/beta`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
    for (const pid of pids) await waitGone(pid);
    expect((await running()).map((r) => r.model)).not.toContain("beta");
    expect((await running()).map((r) => r.model)).toContain("alpha");
  });

  test("POST /api/models/unload/:alias unloads the real model; an unknown one is 404", async () => {
    const res = await fetch(`${s.url}/api/models/unload/a1`, { method: "POST" });
    expect(await res.text()).toBe("OK");
    expect((await running()).map((r) => r.model)).not.toContain("alpha");
    expect((await fetch(`${s.url}/api/models/unload/nope`, { method: "POST" })).status).toBe(404);
  });

  test.each([
    ["POST", "/api/models/unload", '{"msg":"ok"}'],
    ["GET", "/unload", "OK"],
  ])("%s %s unloads everything", async (method, path, answer) => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "zeta", messages: [] }));
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "beta", messages: [] }));
    const pids = [...(await pidsOf("zeta")), ...(await pidsOf("beta"))];
    const res = await fetch(`${s.url}${path}`, { method });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(answer);
    expect(await running()).toEqual([]);
    for (const pid of pids) await waitGone(pid);
  });
});

describe("health, logs and events", () => {
  test("/health answers OK", async () => {
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  test("/logs has the proxy's request lines and the models' output as text", async () => {
    const res = await fetch(`${s.url}/logs`);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    const text = await res.text();
    expect(text).toMatch(/Request 127\.0\.0\.1 "POST \/v1\/chat\/completions HTTP\/1\.1" 200 \d+ /);
    expect(text).toContain("fake-upstream: POST /v1/chat/completions #1");
  });

  test("/logs/stream/:model streams that model's history, then its live output (by alias too)", async () => {
    // History first: with none (?no-history) Bun, like Go's net/http in llama-swap, sends no headers until the first line.
    const res = await fetch(`${s.url}/logs/stream/a1`);
    expect(res.status).toBe(200);
    const reading = readUntil(res, (t) => t.includes("fake-upstream: POST /v1/embeddings"));
    await echoOf(await postJson(s.url, "/v1/embeddings", { model: "alpha", input: "x" }));
    const text = await reading;
    expect(text).toContain("fake-upstream: POST /v1/chat/completions #1");
    expect(text).not.toContain("[INFO] Request");
    const bad = await fetch(`${s.url}/logs/stream/nope`);
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
  });

  test("/api/events streams numbered model state changes, in llama-swap's envelope", async () => {
    const res = await fetch(`${s.url}/api/events`);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const reading = readUntil(res, (t) => /"model":"zeta","state":"ready"/.test(t));
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "zeta", messages: [] }));
    const text = await reading;
    type Message = { type: string; data: string; seq: number; event?: { kind: string; model: string; state: string } };
    const frames = text.split("\n\n").flatMap((f) => {
      const data = /^data: (.*)$/m.exec(f)?.[1];
      return f.startsWith("event: message") || f.includes("\nevent: message") ? [{ id: /^id: (\d+)$/m.exec(f)?.[1], m: JSON.parse(data!) as Message }] : [];
    });
    // llama-swap's connect batch first, then one frame per event.
    expect(frames.slice(0, 5).map((f) => f.m.type)).toEqual(["logData", "logData", "modelStatus", "metrics", "inflight"]);
    const changes = frames.filter((f) => f.m.event?.kind === "modelState");
    const seqs = changes.map((f) => Number(f.id));
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs).toEqual(changes.map((f) => f.m.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const zeta = changes.filter((f) => f.m.event!.model === "zeta");
    expect(zeta.map((f) => f.m.event!.state)).toEqual(["starting", "ready"]);
    // What a llama-swap client reads from the same frame.
    const models = JSON.parse(zeta.at(-1)!.m.data) as Array<{ id: string; state: string }>;
    expect(models.find((m) => m.id === "zeta")?.state).toBe("ready");
    expect(zeta.at(-1)!.m.type).toBe("modelStatus");
  });

  test("/api/events?since= replays what was missed", async () => {
    const res = await fetch(`${s.url}/api/events?since=0`);
    const text = await readUntil(res, (t) => t.includes('"state":"ready"'));
    expect(text).toMatch(/^id: 1$/m);
  });
});
