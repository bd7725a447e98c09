/**
 * `/upstream/<model>/<path>`: direct access to a model's own server, any
 * method. Model ids may contain `/`, so the longest configured id or alias
 * that prefixes the path wins. Paths matching `ignorePaths` never start a model.
 * `/comfyui/<path>`: the same for llama-swap's fixed ComfyUI model.
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import { HttpError } from "../errors.ts";
import { forward } from "../forward/forward.ts";
import type { Front } from "../state.ts";
import { bunServerOf, disableIdleTimeout, exchangeOf } from "../exchange.ts";
import { searchOf, upstreamUrl } from "../forward/url.ts";
import { type ModelIndex, pinnedUpstreamPath, realModelId } from "../resolve/targets.ts";
import { once } from "../forward/proxy.ts";
import { isWebSocketUpgrade, toWsUrl, type WsBridge } from "../forward/websocket.ts";
import { COMFYUI_MODEL_ID } from "../../config/types.ts";
import { UI_PATH } from "../ui/page.ts";

interface UpgradeServer {
  upgrade(req: Request, options: { data: unknown; headers?: Record<string, string> }): boolean;
}

/**
 * Upgrades to a websocket bridged to the model. As the schema says of
 * `ignoreWebsockets`: by default a websocket loads the model and holds a slot
 * while open; with it set (or on an ignored path) it never starts the model
 * (409 when stopped) and does not count as activity.
 */
async function upgrade(c: Context, front: Front, model: string, rest: string, ignoredPath: boolean): Promise<Response> {
  const ignore = ignoredPath || (front.deps.config.models[model]?.ignoreWebsockets ?? false);
  const lease = await front.deps.scheduler.acquire(model, ignore ? { noStart: true, signal: c.req.raw.signal } : { signal: c.req.raw.signal });
  const server = bunServerOf<UpgradeServer>(c);
  if (!server) {
    lease.release();
    throw new HttpError("websocket_unavailable", "Cannot upgrade to websocket: not served by Bun.serve");
  }
  const protocols = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const data: WsBridge = {
    kind: "modelswap-ws-bridge",
    target: toWsUrl(upstreamUrl(lease.upstream, rest, searchOf(c.req.raw))),
    protocols,
    release: once(() => lease.release()),
    upstream: null,
    pending: [],
  };
  disableIdleTimeout(exchangeOf(c));
  const headers: Record<string, string> = protocols[0] ? { "Sec-WebSocket-Protocol": protocols[0] } : {};
  if (!server.upgrade(c.req.raw, { data, headers })) {
    data.release();
    throw new HttpError("websocket_upgrade_failed", "Cannot upgrade to websocket: the request is not a valid upgrade");
  }
  if (ignore) data.release();
  return new Response(null);
}

/** Splits `a/b/rest…` into the longest known model name and the remaining path ("" when nothing follows). */
export function findModelInPath(index: ModelIndex, path: string): { name: string; model: string; rest: string } | null {
  const parts = path.split("/");
  let best: { name: string; model: string; rest: string } | null = null;
  let name = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    name = name === "" ? part : `${name}/${part}`;
    if (part === "" && i > 0) continue;
    const model = realModelId(index, name);
    if (model !== null) {
      const tail = parts.slice(i + 1);
      best = { name, model, rest: tail.length === 0 ? "" : `/${tail.join("/")}` };
    }
  }
  return best;
}

async function handle(c: Context, front: Front, ignore: RegExp[]): Promise<Response> {
  const raw = pinnedUpstreamPath(front.index, front.profile, c.req.path.slice("/upstream/".length));
  const found = findModelInPath(front.index, raw);
  if (!found) {
    const name = raw.split("/")[0] ?? "";
    if (name === "") throw new HttpError("missing_model", "Cannot route request: model id required in path");
    throw new HttpError("model_not_found", `Cannot find model: '${name}' is not configured`);
  }
  if (found.rest === "") {
    const q = new URL(c.req.url).search;
    const location = `/upstream/${found.name}/${q}`;
    const status = c.req.method === "GET" || c.req.method === "HEAD" ? 301 : 308;
    return new Response(null, { status, headers: { Location: location } });
  }
  const noStart = ignore.some((r) => r.test(found.rest));
  if (isWebSocketUpgrade(c.req.raw)) return upgrade(c, front, found.model, found.rest, noStart);
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : c.req.raw.body;
  return forward(exchangeOf(c), front, {
    target: { kind: "local", requested: found.name, model: found.model },
    body,
    bodyChanged: false,
    path: found.rest,
    noStart,
  });
}

/** A redirect that keeps the method (308) except for GET/HEAD (301), query included. */
function permanentRedirect(c: Context, path: string): Response {
  const status = c.req.method === "GET" || c.req.method === "HEAD" ? 301 : 308;
  return new Response(null, { status, headers: { Location: `${path}${new URL(c.req.url).search}` } });
}

/**
 * `/comfyui/...`: llama-swap's passthrough to the fixed model `comfyui_auto`,
 * with `/comfyui` stripped. Only the root (`/comfyui/`) may start the model:
 * once it is unloaded, a browser tab's stale asset, API or websocket requests
 * must not load it again (409 instead).
 */
async function comfy(c: Context, front: Front): Promise<Response> {
  const model = COMFYUI_MODEL_ID;
  if (!front.deps.config.models[model]) {
    throw new HttpError("model_not_found", `Cannot serve /comfyui/: the model '${model}' is not configured (add it to serve ComfyUI here)`);
  }
  const rest = c.req.path.slice("/comfyui".length);
  const noStart = rest !== "/";
  if (noStart) {
    const state = (await front.deps.scheduler.status()).find((s) => s.model === model)?.state;
    if (state !== "ready") {
      throw new HttpError("not_running", `Cannot serve ${c.req.path}: the model '${model}' is not loaded, and only /comfyui/ starts it`);
    }
  }
  if (isWebSocketUpgrade(c.req.raw)) return upgrade(c, front, model, rest, true);
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? null : c.req.raw.body;
  return forward(exchangeOf(c), front, { target: { kind: "local", requested: model, model }, body, bodyChanged: false, path: rest, noStart });
}

/** The passthrough routes (why: UIs and tools of a model server work unchanged behind modelswap). */
export function upstreamRoutes(app: Hono, front: Front): void {
  const ignore = front.deps.config.ignorePaths.map((s) => new RegExp(s));
  // llama-swap sends `GET /upstream` to its UI's model list; modelswap's UI lists models on its one page.
  app.get("/upstream", (c) => c.redirect(UI_PATH, 302));
  app.all("/upstream/*", (c) => handle(c, front, ignore));
  app.all("/comfyui", (c) => permanentRedirect(c, "/comfyui/"));
  app.all("/comfyui/*", (c) => comfy(c, front));
}
