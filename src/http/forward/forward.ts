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
import { chosenTarget, type Target } from "../resolve/targets.ts";
import { clientClosed, fetchUpstream, proxyRequest } from "./proxy.ts";

/** What goes upstream once the target is known. */
export interface Prepared {
  /** Body to send upstream (already filtered), or null. */
  body: RequestInit["body"];
  /** The body differs from what the client sent. */
  bodyChanged: boolean;
  /** Content-Length of a rewritten body, when known. */
  contentLength?: number;
  /** Show loading progress in the stream if the model is not ready. */
  loadingState?: boolean;
}

/** A target that names one model or peer (a selector's is known only once the scheduler chose). */
export type ConcreteTarget = Exclude<Target, { kind: "select" }>;

export interface ForwardInit extends Prepared {
  target: Target;
  /**
   * The body for the target the scheduler chose, for a selector target
   * (filters depend on the model: they run once it is known). Required then.
   */
  prepare?: (target: ConcreteTarget) => Prepared;
  /** Path sent upstream; defaults to the request's path. */
  path?: string;
  noStart?: boolean;
  /** The request's keep_alive in ms (stripped from the body already); absent: the model's ttl. */
  keepAliveMs?: number;
}

/**
 * Proxies the current request to its target and returns the client response.
 * While it waits for a lease it is tracked too, so a drain can end the wait
 * with a 503 instead of cutting the socket.
 *
 * One `AbortController` serves the whole request (why: an `AbortController`,
 * an `AbortSignal.any` and a listener pair per phase were ~4% of the main
 * thread at 64 connections): the client leaving, a drain, the header timeout
 * and the stall watchdog all abort it; the acquire waits on its signal and the
 * upstream fetch runs with it.
 */
export async function forward(c: Exchange, front: Front, init: ForwardInit): Promise<Response> {
  const client = c.raw.signal;
  if (client.aborted) throw clientClosed();
  const abort = new AbortController();
  client.addEventListener("abort", () => abort.abort(client.reason), { once: true });
  const untrack = front.inflight.add({ end: (reason) => abort.abort(new HttpError("shutting_down", reason)) });
  try {
    disableIdleTimeout(c);
    const target = init.target;
    if (target.kind !== "select") return await forwardTo(c, front, target, init, init, abort, null);
    // The scheduler picks among the selector's candidates; the filters follow its choice.
    const lease = await front.deps.scheduler.acquire(target.selector, acquireOptions(init, abort.signal, { select: target.select }));
    const chosen = chosenTarget(front.index, target.requested, lease) as ConcreteTarget;
    if (init.prepare === undefined) throw new TypeError("Cannot forward to a selector without prepare()");
    return await forwardTo(c, front, chosen, { ...init, ...init.prepare(chosen), loadingState: false }, init, abort, lease);
  } catch (err) {
    const reason: unknown = abort.signal.reason;
    if (reason instanceof HttpError && reason.code === "shutting_down") throw reason;
    throw err;
  } finally {
    // The response stream (if any) registered itself before this runs: no gap a drain could miss.
    untrack();
  }
}

function acquireOptions(init: ForwardInit, signal: AbortSignal, extra: Partial<AcquireOptions> = {}): AcquireOptions {
  const o: AcquireOptions = { signal, ...extra };
  if (init.noStart) o.noStart = true;
  if (init.keepAliveMs !== undefined) o.keepAliveMs = init.keepAliveMs;
  return o;
}

/** Forwards to one model or peer; `granted` is a lease already held (a selector's), else one is acquired. */
async function forwardTo(
  c: Exchange,
  front: Front,
  target: ConcreteTarget,
  prepared: Prepared,
  init: ForwardInit,
  abort: AbortController,
  granted: Lease | null,
): Promise<Response> {
  const req = c.raw;
  const path = init.path ?? c.path;
  const search = searchOf(req);
  const headers = upstreamRequestHeaders(req.headers, {
    stripAuth: front.deps.config.apiKeys.length > 0 || target.kind === "peer",
    peerKey: target.kind === "peer" ? target.peer.apiKey : null,
    bodyChanged: prepared.bodyChanged,
  });
  if (prepared.contentLength !== undefined) headers.set("content-length", String(prepared.contentLength));
  const timeouts = target.kind === "peer" ? target.peer.timeouts : front.deps.config.models[target.model]?.timeouts;
  const base = { method: req.method, headers, body: prepared.body, signal: req.signal, abort, headerTimeoutMs: (timeouts?.responseHeader ?? 0) * 1000 };

  if (target.kind === "peer") {
    return proxyRequest({ ...base, url: upstreamUrl(target.peer.proxy, path, search), onDone: () => granted?.release(), inflight: front.inflight });
  }

  const model = target.model;
  const watchdog = front.deps.config.models[model]?.watchdog;
  const viaLease = (lease: Lease) =>
    proxyRequest({
      ...base,
      url: upstreamUrl(lease.upstream, path, search),
      onDone: () => lease.release(),
      inflight: front.inflight,
      stallMs: (watchdog?.stallTimeout ?? 0) * 1000,
      // Only when the busy watchdog is on: otherwise the hot path does not even mark the model.
      ...((watchdog?.busyTimeout ?? 0) > 0 ? { onProgress: () => lease.progress() } : {}),
    });

  if (granted !== null) return viaLease(granted);
  if (!prepared.loadingState) {
    const lease = await front.deps.scheduler.acquire(model, acquireOptions(init, abort.signal));
    return viaLease(lease);
  }

  const relay = new ProgressRelay();
  const leaseP = front.deps.scheduler.acquire(model, acquireOptions(init, abort.signal, { onProgress: relay.push }));
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
    forward: (lease) => fetchUpstream({ ...base, url: upstreamUrl(lease.upstream, path, search), stallMs: (watchdog?.stallTimeout ?? 0) * 1000 }, abort),
    stallMs: (watchdog?.stallTimeout ?? 0) * 1000,
    reportProgress: (watchdog?.busyTimeout ?? 0) > 0,
  };
  return loadingStateResponse(opts);
}
