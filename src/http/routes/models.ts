/**
 * Non-model routes in llama-swap's shapes: the model list, what is running,
 * unloading, health (`/health`, `/wol-health`) and the tab icon.
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import type { ModelConfig } from "../../config/types.ts";
import type { ModelState } from "../../scheduler/protocol.ts";
import { HttpError, toHttpError } from "../errors.ts";
import { keepOpen } from "../exchange.ts";
import { factsOf, llamaState } from "../stream/event-frames.ts";
import type { Front } from "../state.ts";
import { realModelId } from "../resolve/targets.ts";
import { FAVICON } from "../ui/favicon.ts";

type Row = Record<string, unknown> & { id: string };

function statusValue(state: ModelState | undefined): "loaded" | "loading" | "unloaded" {
  if (state === "ready") return "loaded";
  if (state === "starting") return "loading";
  return "unloaded";
}

function record(id: string, m: Pick<ModelConfig, "name" | "description" | "metadata" | "capabilities">, created: number, state: ModelState | undefined): Row {
  const row: Row = { id, object: "model", created, owned_by: "modelswap" };
  const name = m.name.trim();
  if (name) row.name = name;
  if (m.description.trim()) row.description = m.description.trim();
  const meta: Record<string, unknown> = { ...m.metadata };
  if (m.capabilities) meta.capabilities = m.capabilities;
  if (Object.keys(meta).length > 0) row.meta = { llamaswap: meta };
  row.status = { value: statusValue(state) };
  return row;
}

/** The `/v1/models` body: unlisted models hidden, aliases when asked, peers as `peer/model`, sorted by id. */
export async function listModels(front: Front): Promise<{ object: "list"; data: Row[] }> {
  const config = front.deps.config;
  const states = new Map((await front.deps.scheduler.status()).map((s) => [s.model, s.state]));
  // A model with replicas is as loaded as its readiest replica.
  for (const [id, m] of Object.entries(config.models)) {
    if (m.replicas.length === 0) continue;
    const rs = m.replicas.map((r) => states.get(r));
    states.set(id, rs.find((s) => s === "ready") ?? rs.find((s) => s === "starting") ?? "stopped");
  }
  const created = Math.floor(Date.now() / 1000);
  const data: Row[] = [];
  for (const [id, m] of Object.entries(config.models)) {
    if (m.unlisted) continue;
    data.push(record(id, m, created, states.get(id)));
    if (config.includeAliasesInList) for (const a of m.aliases) if (a.trim()) data.push(record(a.trim(), m, created, states.get(id)));
  }
  for (const sel of Object.values(config.selectors)) {
    data.push(record(sel.id, { name: sel.name, description: sel.description, metadata: sel.metadata, capabilities: null }, created, undefined));
  }
  // The active profile's pins are model ids too (llama-swap): listed unless disabled or a model id already.
  const profile = front.profile === null ? undefined : config.profiles[front.profile];
  for (const [pin, target] of Object.entries(profile?.pins ?? {})) {
    if (target === null || Object.hasOwn(config.models, pin)) continue;
    data.push(record(pin, { name: "", description: "", metadata: { type: "profile" }, capabilities: null }, created, undefined));
  }
  for (const [peerId, peer] of Object.entries(config.peers)) {
    for (const model of peer.models) {
      const row = record(`${peerId}/${model}`, { name: `${peerId}: ${model}`, description: "", metadata: { peerID: peerId }, capabilities: null }, created, undefined);
      delete row.status;
      data.push(row);
    }
  }
  data.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { object: "list", data };
}

async function modelsHandler(c: Context, front: Front): Promise<Response> {
  const body = await listModels(front);
  const headers: Record<string, string> = { "Content-Type": "application/json; charset=utf-8" };
  const origin = c.req.header("origin");
  if (origin) headers["Access-Control-Allow-Origin"] = origin;
  return new Response(JSON.stringify(body), { status: 200, headers });
}

/** States `/running` lists: llama-swap's running ones, plus `failed` (shown as failed/backoff with its error, never hidden). */
const RUNNING_STATES = new Set<ModelState>(["starting", "ready", "stopping", "failed"]);

/** The `/running` body, llama-swap's shape; a failed model adds `error` and `retryAt` (ISO time). */
export async function listRunning(front: Front): Promise<{ running: Array<Record<string, unknown>> }> {
  const running: Array<Record<string, unknown>> = [];
  const now = Date.now();
  for (const s of await front.deps.scheduler.status()) {
    const m = front.deps.config.models[s.model];
    if (!m || !RUNNING_STATES.has(s.state)) continue;
    const f = factsOf(s, now);
    const row: Record<string, unknown> = { model: s.model, state: llamaState(f, now), cmd: m.cmdText, proxy: m.proxy, ttl: m.ttl, name: m.name, description: m.description };
    if (s.state === "failed") Object.assign(row, { error: s.lastError, retryAt: f.retryAt === null ? null : new Date(f.retryAt).toISOString(), failures: s.failures });
    running.push(row);
  }
  running.sort((a, b) => String(a.model).localeCompare(String(b.model)));
  return { running };
}

/** Routes for listing, running, unload and health (why: what UIs and scripts poll). */
export function modelRoutes(app: Hono, front: Front): void {
  app.get("/v1/models", (c) => modelsHandler(c, front));
  app.get("/models", (c) => modelsHandler(c, front));
  app.get("/running", async (c) => c.json(await listRunning(front)));
  // 503 once the scheduler Worker is gone: nothing can start or stop a model, and modelswap is exiting.
  app.get("/health", (c) => {
    if (front.deps.scheduler.alive === false) throw new HttpError("scheduler_down", "Cannot serve requests: the scheduler stopped; modelswap is exiting");
    return c.text("OK");
  });
  // llama-swap's wake-on-LAN proxy polls this one; same answer, also without a key.
  app.get("/wol-health", (c) => c.text("OK"));
  app.get("/favicon.ico", () => new Response(FAVICON, { headers: { "Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400" } }));
  app.get("/unload", async (c) => {
    await front.deps.scheduler.unload(null);
    return c.text("OK");
  });
  app.post("/api/models/unload", async (c) => {
    await front.deps.scheduler.unload(null);
    return c.json({ msg: "ok" });
  });
  // modelswap: the UI's Load button. Answers once the model is ready (or why it is not).
  app.post("/api/models/load/*", async (c) => {
    const name = decodeURIComponent(c.req.path.slice("/api/models/load/".length));
    const model = realModelId(front.index, name);
    if (model === null) throw new HttpError("model_not_found", `Cannot load model: '${name}' is not configured`);
    keepOpen(c);
    try {
      const lease = await front.deps.scheduler.acquire(model, { signal: c.req.raw.signal });
      lease.release();
    } catch (err) {
      throw toHttpError(err);
    }
    return c.json({ msg: "ok", model });
  });
  app.post("/api/models/unload/*", async (c) => {
    const name = decodeURIComponent(c.req.path.slice("/api/models/unload/".length));
    const model = realModelId(front.index, name);
    if (model === null) throw new HttpError("model_not_found", `Cannot unload model: '${name}' is not configured`);
    await front.deps.scheduler.unload(model);
    return c.text("OK");
  });
}
