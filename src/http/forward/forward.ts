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
import { chosenTarget, type Target } from "../resolve/targets.ts";
import { fetchUpstream, proxyRequest } from "./proxy.ts";

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
 */
export async function forward(c: Exchange, front: Front, init: ForwardInit): Promise<Response> {
  const draining = new AbortController();
  const untrack = front.inflight.add({ end: (reason) => draining.abort(new HttpError("shutting_down", reason)) });
  const { rec, cancel } = track(c, front, init);
  // A cancel through the API acts as the client leaving: out of the queue, or the upstream fetch aborted.
  const clientSignal = AbortSignal.any([c.raw.signal, cancel]);
  try {
    disableIdleTimeout(c);
    const target = init.target;
    if (target.kind !== "select") return await forwardTo(c, front, target, init, init, draining.signal, null, rec, clientSignal);
    // The scheduler picks among the selector's candidates; the filters follow its choice.
    const lease = await front.deps.scheduler.acquire(target.selector, acquireOptions(init, AbortSignal.any([clientSignal, draining.signal]), { select: target.select }));
    const chosen = chosenTarget(front.index, target.requested, lease) as ConcreteTarget;
    rec.model = modelLabel(chosen);
    if (init.prepare === undefined) throw new TypeError("Cannot forward to a selector without prepare()");
    return await forwardTo(c, front, chosen, { ...init, ...init.prepare(chosen), loadingState: false }, init, draining.signal, lease, rec, clientSignal);
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

/** How a target is named in activity rows and log lines: the model id, or `peer/model`. */
function modelLabel(t: Target): string {
  switch (t.kind) {
    case "local":
      return t.model;
    case "peer":
      return `${t.peer.id}/${t.model}`;
    case "select":
      return t.requested;
    default: {
      const never: never = t;
      throw new TypeError(`Cannot name target: ${JSON.stringify(never)}`);
    }
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
  const model = modelLabel(init.target);
  const client = clientAddress(req, c.server);
  const open = front.requests.add({ model, path: c.path, client, started_at: new Date().toISOString() });
  const rec = new RequestRecord(front.metrics, { model, path: c.path, started, time: Date.now(), reqHeaders: req.headers, reqBody: capturable(init.body) });
  deferredLog.add(req);
  rec.onFinish((e) => {
    open.remove();
    logRequest(front.log, {
      client, method: req.method, path: c.path, status: e.resp_status_code, bytes: e.bytes,
      userAgent: req.headers.get("user-agent") ?? "", durationMs: performance.now() - started, model: e.model,
    });
  });
  return { rec, cancel: open.signal };
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
  draining: AbortSignal,
  granted: Lease | null,
  rec: RequestRecord,
  clientSignal: AbortSignal,
): Promise<Response> {
  const req = c.raw;
  const waitSignal = AbortSignal.any([clientSignal, draining]);
  const path = init.path ?? c.path;
  const search = searchOf(req);
  const headers = upstreamRequestHeaders(req.headers, {
    stripAuth: front.deps.config.apiKeys.length > 0 || target.kind === "peer",
    peerKey: target.kind === "peer" ? target.peer.apiKey : null,
    bodyChanged: prepared.bodyChanged,
  });
  if (prepared.contentLength !== undefined) headers.set("content-length", String(prepared.contentLength));
  const timeouts = target.kind === "peer" ? target.peer.timeouts : front.deps.config.models[target.model]?.timeouts;
  const base = { method: req.method, headers, body: prepared.body, headerTimeoutMs: (timeouts?.responseHeader ?? 0) * 1000 };

  if (target.kind === "peer") {
    return proxyRequest({ ...base, url: upstreamUrl(target.peer.proxy, path, search), signal: clientSignal, onDone: () => granted?.release(), inflight: front.inflight, observer: rec });
  }

  const model = target.model;
  const watchdog = front.deps.config.models[model]?.watchdog;
  const viaLease = (lease: Lease) =>
    proxyRequest({
      ...base,
      url: upstreamUrl(lease.upstream, path, search),
      signal: clientSignal,
      onDone: () => lease.release(),
      inflight: front.inflight,
      observer: rec,
      stallMs: (watchdog?.stallTimeout ?? 0) * 1000,
      // Only when the busy watchdog is on: otherwise the hot path does not even mark the model.
      ...((watchdog?.busyTimeout ?? 0) > 0 ? { onProgress: () => lease.progress() } : {}),
    });

  if (granted !== null) return viaLease(granted);
  if (!prepared.loadingState) {
    const lease = await front.deps.scheduler.acquire(model, acquireOptions(init, waitSignal));
    return viaLease(lease);
  }

  const abort = new AbortController();
  if (waitSignal.aborted) abort.abort(waitSignal.reason);
  else waitSignal.addEventListener("abort", () => abort.abort(waitSignal.reason), { once: true });
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
    observer: rec,
    forward: (lease) => fetchUpstream({ ...base, url: upstreamUrl(lease.upstream, path, search), signal: clientSignal, stallMs: (watchdog?.stallTimeout ?? 0) * 1000 }, abort),
    stallMs: (watchdog?.stallTimeout ?? 0) * 1000,
    reportProgress: (watchdog?.busyTimeout ?? 0) > 0,
  };
  return loadingStateResponse(opts);
}
