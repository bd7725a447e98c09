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
  try {
    return await forwardTracked(c, front, init, draining.signal);
  } catch (err) {
    if (draining.signal.aborted) throw draining.signal.reason;
    throw err;
  } finally {
    // The response stream (if any) registered itself before this runs: no gap a drain could miss.
    untrack();
  }
}

async function forwardTracked(c: Exchange, front: Front, init: ForwardInit, draining: AbortSignal): Promise<Response> {
  disableIdleTimeout(c);
  const req = c.raw;
  const waitSignal = AbortSignal.any([req.signal, draining]);
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
    return proxyRequest({ ...base, url: upstreamUrl(init.target.peer.proxy, path, search), signal: req.signal, onDone: () => {}, inflight: front.inflight });
  }

  const model = init.target.model;
  const acquireOpts = (signal: AbortSignal, onProgress?: AcquireOptions["onProgress"]): AcquireOptions => {
    const o: AcquireOptions = { signal };
    if (onProgress) o.onProgress = onProgress;
    if (init.noStart) o.noStart = true;
    return o;
  };
  const viaLease = (lease: Lease) =>
    proxyRequest({ ...base, url: upstreamUrl(lease.upstream, path, search), signal: req.signal, onDone: () => lease.release(), inflight: front.inflight });

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
    forward: (lease) => fetchUpstream({ ...base, url: upstreamUrl(lease.upstream, path, search), signal: req.signal }, abort),
  };
  return loadingStateResponse(opts);
}
