/**
 * The common tail of every model-routed request: acquire a lease (or go to a
 * peer), optionally show loading state, proxy, release.
 */
import type { AcquireOptions, Lease } from "../../scheduler/api.ts";
import { disableIdleTimeout, type Exchange } from "../exchange.ts";
import type { Front } from "../state.ts";
import { searchOf, upstreamUrl } from "./url.ts";
import { HttpError } from "../errors.ts";
import { upstreamRequestHeaders } from "./headers.ts";
import { loadingStateResponse, ProgressRelay } from "./loading-stream.ts";
import type { Target } from "../resolve/targets.ts";
import { clientClosed, fetchUpstream, proxyRequest } from "./proxy.ts";

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
 *
 * One `AbortController` serves the whole request (why: an `AbortController`,
 * an `AbortSignal.any` and a listener pair per phase were ~4% of the main
 * thread at 64 connections): the client leaving, a drain, and the header
 * timeout all abort it; the acquire waits on its signal and the upstream
 * fetch runs with it.
 */
export async function forward(c: Exchange, front: Front, init: ForwardInit): Promise<Response> {
  const client = c.raw.signal;
  if (client.aborted) throw clientClosed();
  const abort = new AbortController();
  client.addEventListener("abort", () => abort.abort(client.reason), { once: true });
  const untrack = front.inflight.add({ end: (reason) => abort.abort(new HttpError("shutting_down", reason)) });
  try {
    return await forwardTracked(c, front, init, abort);
  } catch (err) {
    const reason: unknown = abort.signal.reason;
    if (reason instanceof HttpError && reason.code === "shutting_down") throw reason;
    throw err;
  } finally {
    // The response stream (if any) registered itself before this runs: no gap a drain could miss.
    untrack();
  }
}

async function forwardTracked(c: Exchange, front: Front, init: ForwardInit, abort: AbortController): Promise<Response> {
  disableIdleTimeout(c);
  const req = c.raw;
  const path = init.path ?? c.path;
  const search = searchOf(req);
  const headers = upstreamRequestHeaders(req.headers, {
    stripAuth: front.deps.config.apiKeys.length > 0 || init.target.kind === "peer",
    peerKey: init.target.kind === "peer" ? init.target.peer.apiKey : null,
    bodyChanged: init.bodyChanged,
  });
  if (init.contentLength !== undefined) headers.set("content-length", String(init.contentLength));
  const timeouts = init.target.kind === "peer" ? init.target.peer.timeouts : front.deps.config.models[init.target.model]?.timeouts;
  const base = { method: req.method, headers, body: init.body, signal: req.signal, abort, headerTimeoutMs: (timeouts?.responseHeader ?? 0) * 1000 };

  if (init.target.kind === "peer") {
    return proxyRequest({ ...base, url: upstreamUrl(init.target.peer.proxy, path, search), onDone: () => {}, inflight: front.inflight });
  }

  const model = init.target.model;
  const acquireOpts = (onProgress?: AcquireOptions["onProgress"]): AcquireOptions => {
    const o: AcquireOptions = { signal: abort.signal };
    if (onProgress) o.onProgress = onProgress;
    if (init.noStart) o.noStart = true;
    return o;
  };
  const viaLease = (lease: Lease) =>
    proxyRequest({ ...base, url: upstreamUrl(lease.upstream, path, search), onDone: () => lease.release(), inflight: front.inflight });

  if (!init.loadingState) {
    const lease = await front.deps.scheduler.acquire(model, acquireOpts());
    return viaLease(lease);
  }

  const relay = new ProgressRelay();
  const leaseP = front.deps.scheduler.acquire(model, acquireOpts(relay.push));
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
    forward: (lease) => fetchUpstream({ ...base, url: upstreamUrl(lease.upstream, path, search) }, abort),
  };
  return loadingStateResponse(opts);
}
