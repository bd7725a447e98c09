/**
 * Model-routed endpoints: the model comes from the JSON body, a multipart
 * form field, or the `?model=` query, as in llama-swap.
 */
import type { Hono } from "hono";
import type { Context } from "hono";
import { type ParsedJson, parseModelJson, readLimited, tooLarge } from "../edge/body.ts";
import { HttpError } from "../errors.ts";
import { applyFilters, filteredBody } from "../resolve/filters.ts";
import { type ConcreteTarget, forward, type ForwardInit, type Prepared } from "../forward/forward.ts";
import { parseKeepAlive } from "../../lib/keep-alive.ts";
import { type Exchange, exchangeOf, type IdleTimeoutServer, serverOf } from "../exchange.ts";
import { errorResponse } from "../errors.ts";
import { keyGuard, originGuard } from "../edge/auth.ts";
import { logWhenSent } from "../request-log.ts";
import { levelEnabled } from "../../observe/index.ts";
import type { Front } from "../state.ts";
import { resolveTarget, type Target } from "../resolve/targets.ts";
import { boundaryOf, multipartBody, readMultipartHead } from "../edge/multipart.ts";

/** POST endpoints whose JSON body names the model (llama-swap's list). */
export const JSON_MODEL_PATHS = [
  "/v1/chat/completions",
  "/v1/responses",
  "/v1/completions",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/embeddings",
  "/reranking",
  "/rerank",
  "/v1/rerank",
  "/v1/reranking",
  "/infill",
  "/completion",
  "/v1/audio/speech",
  "/v1/audio/voices",
  "/v1/images/generations",
  "/sdapi/v1/txt2img",
  "/sdapi/v1/img2img",
  // audio.cpp's generic task API: forwarded as /v1/tasks/run (llama-swap strips /audioapi).
  "/audioapi/v1/tasks/run",
  // llama-swap's versionless `/v/...` spellings: forwarded with `/v` stripped (its issue #728).
  "/v/chat/completions",
  "/v/responses",
  "/v/completions",
  "/v/messages",
  "/v/messages/count_tokens",
  "/v/embeddings",
  "/v/rerank",
  "/v/reranking",
  // Versionless spellings (modelswap extras; llama-swap has only the llama-server ones above).
  "/chat/completions",
  "/completions",
  "/responses",
  "/embeddings",
  "/messages",
] as const;

/**
 * The path a request is forwarded with: llama-swap strips the `/v` of its
 * versionless routes and the `/audioapi` prefix, so `/v/chat/completions`
 * reaches the model as `/chat/completions` and `/audioapi/v1/tasks/run` as
 * `/v1/tasks/run`. Every other path is forwarded as it came.
 *
 * @example
 * ```ts
 * upstreamPathOf("/v/embeddings"); // "/embeddings"
 * ```
 */
export function upstreamPathOf(path: string): string {
  if (path.startsWith("/v/")) return path.slice(2);
  if (path.startsWith("/audioapi/")) return path.slice("/audioapi".length);
  return path;
}

/** POST endpoints with a multipart form whose `model` field names the model. */
export const FORM_MODEL_PATHS = ["/v1/audio/transcriptions", "/v1/images/edits"] as const;

/** GET endpoints naming the model in `?model=`. */
export const QUERY_MODEL_PATHS = ["/v1/audio/voices", "/props", "/sdapi/v1/loras"] as const;

/** Paths whose streamed responses may carry loading state. */
const LOADING_STATE_PATHS = new Set(["/v1/chat/completions"]);

function resolve(front: Front, requested: string): Target {
  return resolveTarget(front.index, requested, { profile: front.profile });
}

/** A POST whose JSON body names the model. */
async function handleJson(c: Exchange, front: Front): Promise<Response> {
  let bytes = await readLimited(c.raw, front.deps.config.maxUploadBytes);
  const body = parseModelJson(bytes);
  const keepAlive = takeKeepAlive(body);
  // keep_alive is modelswap's to act on, never the upstream's: the body is re-encoded without it.
  if (keepAlive !== undefined) bytes = new TextEncoder().encode(JSON.stringify(body.object()));
  const target = resolve(front, body.model);
  const path = upstreamPathOf(c.path);
  const prepare = (t: ConcreteTarget): Prepared => {
    if (t.kind === "peer") {
      const f = t.peer.filters;
      const requestedName = t.model;
      const out = filteredBody(bytes, body.object, { requested: requestedName, useModelName: requestedName === body.model ? "" : requestedName, filters: { ...f, setParamsByID: {} } });
      return { body: out, bodyChanged: out !== bytes || keepAlive !== undefined };
    }
    const m = front.deps.config.models[t.model];
    if (!m) throw new HttpError("model_not_found", `Cannot find model: '${t.model}' is not configured`);
    const input = { requested: t.requested, useModelName: m.useModelName, filters: m.filters };
    // A profile pin renamed the request: the body must say so even when no filter applies (llama-swap rewrites it).
    const out = t.requested !== body.model ? new TextEncoder().encode(JSON.stringify(applyFilters(body.object(), input))) : filteredBody(bytes, body.object, input);
    const loadingState = m.sendLoadingState && body.stream && LOADING_STATE_PATHS.has(path);
    return { body: out, bodyChanged: out !== bytes || keepAlive !== undefined, loadingState };
  };
  // A selector may show loading state when any of its local candidates would (the pick is the scheduler's).
  const selectLoading = (t: Target) =>
    t.kind === "select" && body.stream && LOADING_STATE_PATHS.has(path) && t.select.targets.some((id) => front.deps.config.models[id]?.sendLoadingState === true);
  const init: ForwardInit =
    target.kind === "select" ? { target, body: null, bodyChanged: false, prepare, path, loadingState: selectLoading(target) } : { target, ...prepare(target), path };
  if (keepAlive !== undefined) init.keepAliveMs = keepAlive;
  return forward(c, front, init);
}

/** Removes Ollama's `keep_alive` from the body and returns it in ms (undefined when absent); 400 when malformed. */
function takeKeepAlive(body: ParsedJson): number | undefined {
  if (body.keepAlive === null) return undefined;
  let ms: number;
  try {
    ms = parseKeepAlive(body.keepAlive.value);
  } catch (e) {
    throw new HttpError("invalid_keep_alive", (e as Error).message);
  }
  delete body.object().keep_alive;
  return ms;
}

async function handleForm(c: Context, front: Front): Promise<Response> {
  const limit = front.deps.config.maxUploadBytes;
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limit) {
    throw tooLarge(limit);
  }
  const boundary = boundaryOf(c.req.header("content-type") ?? "");
  const body = c.req.raw.body;
  if (boundary === null || body === null) throw new HttpError("invalid_form", "Cannot parse multipart form: missing body or boundary");
  // Only the bytes up to the model field are held; the file streams on.
  const head = await readMultipartHead(body, boundary, limit);
  const target = resolve(front, head.model);
  const prepare = (t: ConcreteTarget): Prepared => {
    const sendAs = t.kind === "peer" ? t.model : front.deps.config.models[t.model]?.useModelName || t.requested;
    const out = multipartBody(head, sendAs, limit);
    const p: Prepared = { body: out.body, bodyChanged: true };
    if (declared !== undefined) p.contentLength = Number(declared) + out.delta;
    return p;
  };
  const init: ForwardInit = target.kind === "select" ? { target, body: null, bodyChanged: true, prepare } : { target, ...prepare(target) };
  return forward(exchangeOf(c), front, init);
}

async function handleQuery(c: Context, front: Front): Promise<Response> {
  const requested = c.req.query("model");
  if (!requested) throw new HttpError("missing_model", "Cannot route request: missing required 'model' query parameter");
  const target = resolve(front, requested);
  const init: ForwardInit = { target, body: null, bodyChanged: false, prepare: () => ({ body: null, bodyChanged: false }) };
  // A profile pin renamed the model: the upstream's query says so (llama-swap rewrites it too).
  if (target.kind === "local" && target.requested !== requested) {
    const url = new URL(c.req.url);
    url.searchParams.set("model", target.requested);
    init.search = url.search;
  }
  return forward(exchangeOf(c), front, init);
}

/** The one handler of a JSON inference POST, as `Bun.serve`'s `routes` and hono both call it. */
export type JsonEndpoint = (req: Request, server: IdleTimeoutServer | undefined, path: string) => Promise<Response>;

/**
 * The whole of a JSON inference POST: the `cors.allowOrigins` check, keys, the
 * request log line, the handler, and `errorResponse` for any error (why whole: `Bun.serve` dispatches
 * these paths natively through its `routes`, and hono mounts this same function
 * ahead of its middleware, so there is one code path and nothing to keep in step).
 * @example
 * const json = jsonEndpoint(front);
 * Bun.serve({ routes: { "/v1/chat/completions": { POST: (req, srv) => json(req, srv, "/v1/chat/completions") } }, fetch });
 */
export function jsonEndpoint(front: Front): JsonEndpoint {
  const guard = keyGuard(front.deps.config.apiKeys);
  const origins = originGuard(front.deps.config.cors.allowOrigins);
  const logged = levelEnabled(front.deps.config.logLevel, "info");
  return async (req, server, path) => {
    const started = logged ? performance.now() : 0;
    let res: Response;
    let decorate: ((res: Response) => Response) | null = null;
    try {
      // The order of the middleware chain it replaces: origin, then keys, then the route.
      decorate = origins?.(req.headers) ?? null;
      guard?.("POST", path, req.headers);
      res = await handleJson({ raw: req, path, server }, front);
    } catch (err) {
      res = errorResponse(err, req.headers.get("accept"));
    }
    if (decorate) res = decorate(res);
    return logged ? logWhenSent(front.log, { raw: req, path, server }, res, started) : res;
  };
}

/**
 * The JSON inference paths as hono routes over `endpoint` (why: `app.request`
 * in tests and a path `Bun.serve`'s exact `routes` did not match, e.g. one with
 * `%` escapes, reach the same function). Mount before any middleware: the
 * endpoint writes its own log line and checks its own keys.
 */
export function jsonRoutes(app: Hono, endpoint: JsonEndpoint): void {
  for (const p of JSON_MODEL_PATHS) app.post(p, (c) => endpoint(c.req.raw, serverOf(c), c.req.path));
}

/** Routes for endpoints that name their model in a form field or the query (why: one table mirrors llama-swap's router). */
export function inferenceRoutes(app: Hono, front: Front): void {
  for (const p of FORM_MODEL_PATHS) app.post(p, (c) => handleForm(c, front));
  for (const p of QUERY_MODEL_PATHS) app.get(p, (c) => handleQuery(c, front));
}
