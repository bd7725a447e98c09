/**
 * The common tail of every model-routed request: acquire a lease (or go to a
 * peer), optionally show loading state, proxy, release.
 */
import type { AcquireOptions, Lease } from "../../scheduler/api.ts";
import { disableIdleTimeout, type Exchange } from "../exchange.ts";
import type { Front } from "../state.ts";
import { searchOf, upstreamUrl } from "./url.ts";
import { HttpError, toHttpError } from "../errors.ts";
import { RequestRecord } from "../../metrics/index.ts";
import { clientAddress, deferredLog, logRequest } from "../request-log.ts";
import { upstreamRequestHeaders } from "./headers.ts";
import { loadingStateResponse, ProgressRelay } from "./loading-stream.ts";
import type { Target } from "../resolve/targets.ts";
import { fetchUpstream, proxyRequest } from "./proxy.ts";

export interface ForwardInit {
  target: Target;
  /** Body to send upstream (already filtered), or null. */
  body: RequestInit["body"];
  /** The body differs from what the client sent. */
  bodyChanged: boolean;
  /** Content-Length of a rewritten body, when known. */
  contentLength?: number;
  /** Path sent upstream; defaults to the request's path. */
  path?: string;
  /** Show loading progress in the stream if the model is not ready. */
  loadingState?: boolean;
  noStart?: boolean;
}

/**
 * Proxies the current request to its target and returns the client response.
 * While it waits for a lease it is tracked too, so a drain can end the wait
 * with a 503 instead of cutting the socket.
 */
export async function forward(c: Exchange, front: Front, init: ForwardInit): Promise<Response> {
  const draining = new AbortController();
  const untrack = front.inflight.add({ end: (reason) => draining.abort(new HttpError("shutting_down", reason)) });
  const { rec, cancel } = track(c, front, init);
  try {
    return await forwardTracked(c, front, init, draining.signal, rec, cancel);
  } catch (err) {
    const e = toHttpError(draining.signal.aborted ? draining.signal.reason : err);
    rec.status(e.status);
    rec.finish(e.message);
    if (draining.signal.aborted) throw draining.signal.reason;
    throw err;
  } finally {
    // The response stream (if any) registered itself before this runs: no gap a drain could miss.
    untrack();
  }
}

/** A body the capture can keep (bytes or text; a multipart stream is not kept). */
function capturable(body: RequestInit["body"]): Uint8Array | string | null {
  return typeof body === "string" || body instanceof Uint8Array ? body : null;
}

/**
 * Starts the request's activity record and registers it for cancel; when the
 * record ends (last byte sent, or failure) it leaves the registry and writes
 * the request log line with the full duration.
 */
function track(c: Exchange, front: Front, init: ForwardInit): { rec: RequestRecord; cancel: AbortSignal } {
  const started = performance.now();
  const req = c.raw;
  const model = init.target.kind === "peer" ? `${init.target.peer.id}/${init.target.model}` : init.target.model;
  const client = clientAddress(req, c.server);
  const open = front.requests.add({ model, path: c.path, client, started_at: new Date().toISOString() });
  const rec = new RequestRecord(front.metrics, { model, path: c.path, started, time: Date.now(), reqHeaders: req.headers, reqBody: capturable(init.body) });
  deferredLog.add(req);
  rec.onFinish((e) => {
    open.remove();
    logRequest(front.log, {
      client, method: req.method, path: c.path, status: e.resp_status_code, bytes: e.bytes,
      userAgent: req.headers.get("user-agent") ?? "", durationMs: performance.now() - started, model,
    });
  });
  return { rec, cancel: open.signal };
}

async function forwardTracked(c: Exchange, front: Front, init: ForwardInit, draining: AbortSignal, rec: RequestRecord, cancel: AbortSignal): Promise<Response> {
  disableIdleTimeout(c);
  const req = c.raw;
  // A cancel through the API acts as the client leaving: out of the queue, or the upstream fetch aborted.
  const clientSignal = AbortSignal.any([req.signal, cancel]);
  const waitSignal = AbortSignal.any([clientSignal, draining]);
  const path = init.path ?? c.path;
  const search = searchOf(req);
  const headers = upstreamRequestHeaders(req.headers, {
    stripAuth: front.deps.config.apiKeys.length > 0 || init.target.kind === "peer",
    peerKey: init.target.kind === "peer" ? init.target.peer.apiKey : null,
    bodyChanged: init.bodyChanged,
  });
  if (init.contentLength !== undefined) headers.set("content-length", String(init.contentLength));
  const timeouts = init.target.kind === "peer" ? init.target.peer.timeouts : front.deps.config.models[init.target.model]?.timeouts;
  const base = { method: req.method, headers, body: init.body, headerTimeoutMs: (timeouts?.responseHeader ?? 0) * 1000 };

  if (init.target.kind === "peer") {
    return proxyRequest({ ...base, url: upstreamUrl(init.target.peer.proxy, path, search), signal: clientSignal, onDone: () => {}, inflight: front.inflight, observer: rec });
  }

  const model = init.target.model;
  const acquireOpts = (signal: AbortSignal, onProgress?: AcquireOptions["onProgress"]): AcquireOptions => {
    const o: AcquireOptions = { signal };
    if (onProgress) o.onProgress = onProgress;
    if (init.noStart) o.noStart = true;
    return o;
  };
  const viaLease = (lease: Lease) =>
    proxyRequest({ ...base, url: upstreamUrl(lease.upstream, path, search), signal: clientSignal, onDone: () => lease.release(), inflight: front.inflight, observer: rec });

  if (!init.loadingState) {
    const lease = await front.deps.scheduler.acquire(model, acquireOpts(waitSignal));
    return viaLease(lease);
  }

  const abort = new AbortController();
  if (waitSignal.aborted) abort.abort(waitSignal.reason);
  else waitSignal.addEventListener("abort", () => abort.abort(waitSignal.reason), { once: true });
  const relay = new ProgressRelay();
  const leaseP = front.deps.scheduler.acquire(model, acquireOpts(abort.signal, relay.push));
  const first = await Promise.race([
    leaseP.then(
      (lease) => ({ lease }),
      (error: unknown) => ({ error }),
    ),
    relay.first.then(() => null),
  ]);
  if (first !== null) {
    if ("error" in first) throw first.error;
    relay.stop();
    return viaLease(first.lease);
  }
  const opts: Parameters<typeof loadingStateResponse>[0] = {
    model,
    relay,
    lease: leaseP,
    abort,
    inflight: front.inflight,
    observer: rec,
    forward: (lease) => fetchUpstream({ ...base, url: upstreamUrl(lease.upstream, path, search), signal: clientSignal }, abort),
  };
  return loadingStateResponse(opts);
}
