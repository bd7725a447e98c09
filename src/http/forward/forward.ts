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
import type { InflightEntry } from "./inflight.ts";
import { loadingStateResponse, ProgressRelay } from "./loading-stream.ts";
import { chosenTarget, type Target } from "../resolve/targets.ts";
import { fetchUpstream, type ProxyInit, proxyRequest } from "./proxy.ts";

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
   * (filters depend on the model: they run once it is known). Required then;
   * `loadingState` on the init says whether a loading stream may be shown
   * while the scheduler works (the chosen model's own setting cannot be known yet).
   */
  prepare?: (target: ConcreteTarget) => Prepared;
  /** Path sent upstream; defaults to the request's path. */
  path?: string;
  /** Query sent upstream (with its `?`); defaults to the request's. */
  search?: string;
  noStart?: boolean;
  /** The request's keep_alive in ms (stripped from the body already); absent: the model's ttl. */
  keepAliveMs?: number;
}

/**
 * What every upstream request of one exchange carries: its activity record,
 * and the one controller that ends it: the client leaving, a cancel through
 * the API, a drain (reason: HttpError shutting_down), and the proxy's own
 * timeouts (reason: their HttpError) all abort it. It is also the exchange's
 * entry among the requests in flight, which a drain ends (one object per
 * request rather than a closure for each of these).
 */
class Tracked implements InflightEntry {
  readonly rec: RequestRecord;
  readonly abort: AbortController;

  constructor(rec: RequestRecord, abort: AbortController) {
    this.rec = rec;
    this.abort = abort;
  }

  end(reason: string): void {
    this.abort.abort(new HttpError("shutting_down", reason));
  }
}

/** Whether the exchange was ended by a drain. */
function drained(t: Tracked): boolean {
  const r: unknown = t.abort.signal.reason;
  return r instanceof HttpError && r.code === "shutting_down";
}

/** How one request gets its lease and, from the lease, its concrete target and body. */
interface Plan {
  /** The name shown in loading text. */
  label: string;
  acquire(options: AcquireOptions): Promise<Lease>;
  settle(lease: Lease): { target: ConcreteTarget; prepared: Prepared };
  loadingState: boolean;
}

/**
 * Proxies the current request to its target and returns the client response.
 * While it waits for a lease it is tracked too, so a drain can end the wait
 * with a 503 instead of cutting the socket.
 */
export async function forward(c: Exchange, front: Front, init: ForwardInit): Promise<Response> {
  const t = track(c, front, init);
  front.inflight.add(t);
  try {
    disableIdleTimeout(c);
    const target = init.target;
    if (target.kind === "peer") return await proxyRequest(upstreamInit(c, front, init, target, init, null, t));
    if (target.kind === "local" && init.loadingState !== true) {
      // The common case, without a plan's closures: one model, no loading stream.
      const lease = await front.deps.scheduler.acquire(target.model, acquireOptions(init, t.abort.signal));
      return await proxyWithLease(c, front, init, lease, t, () => ({ target, prepared: init }));
    }
    return await viaScheduler(c, front, init, planFor(front, init, target, t), t);
  } catch (err) {
    // No answer came through the proxy: the row gets the status the client gets.
    const e = toHttpError(drained(t) ? t.abort.signal.reason : err);
    t.rec.status(e.status);
    t.rec.finish(e.message);
    if (drained(t)) throw t.abort.signal.reason;
    throw err;
  } finally {
    // The response stream (if any) registered itself before this runs: no gap a drain could miss.
    front.inflight.remove(t);
  }
}

/** How a target is named in activity rows and log lines: the model id, `peer/model`, or the selector until it chose. */
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
function track(c: Exchange, front: Front, init: ForwardInit): Tracked {
  const started = performance.now();
  const req = c.raw;
  const model = modelLabel(init.target);
  const client = clientAddress(req, c.server);
  const abort = new AbortController();
  const clientLeft = req.signal;
  if (clientLeft.aborted) abort.abort(clientLeft.reason);
  else clientLeft.addEventListener("abort", () => abort.abort(clientLeft.reason), ONCE);
  // A cancel through the API acts as the client leaving: out of the queue, or the upstream fetch aborted.
  const time = Date.now();
  const id = front.requests.add({ model, path: c.path, client, startedAt: time }, abort);
  const rec = new RequestRecord(front.metrics, { model, path: c.path, started, time, reqHeaders: req.headers, reqBody: capturable(init.body) });
  deferredLog.add(req);
  rec.onFinish((e) => {
    front.requests.remove(id);
    logRequest(front.log, {
      client, method: req.method, path: c.path, status: e.resp_status_code, bytes: e.bytes,
      userAgent: req.headers.get("user-agent") ?? "", durationMs: performance.now() - started, model: e.model,
    });
  });
  return new Tracked(rec, abort);
}

/** The options of a listener that runs once (one object, not one per request). */
const ONCE = { once: true } as const;

function planFor(front: Front, init: ForwardInit, target: Exclude<Target, { kind: "peer" }>, t: Tracked): Plan {
  const scheduler = front.deps.scheduler;
  if (target.kind === "local") {
    return { label: target.model, acquire: (o) => scheduler.acquire(target.model, o), settle: () => ({ target, prepared: init }), loadingState: init.loadingState === true };
  }
  // A selector: the scheduler picks among its candidates; the filters follow its choice.
  const prepare = init.prepare;
  if (prepare === undefined) throw new TypeError("Cannot forward to a selector without prepare()");
  return {
    label: target.requested,
    acquire: (o) => scheduler.acquire(target.selector, { ...o, select: target.select }),
    settle: (lease) => {
      const chosen = chosenTarget(front.index, target.requested, lease) as ConcreteTarget;
      t.rec.model = modelLabel(chosen);
      return { target: chosen, prepared: prepare(chosen) };
    },
    loadingState: init.loadingState === true,
  };
}

function acquireOptions(init: ForwardInit, signal: AbortSignal, onProgress?: AcquireOptions["onProgress"]): AcquireOptions {
  const o: AcquireOptions = { signal };
  if (onProgress) o.onProgress = onProgress;
  if (init.noStart) o.noStart = true;
  if (init.keepAliveMs !== undefined) o.keepAliveMs = init.keepAliveMs;
  return o;
}

/**
 * The upstream request for a concrete target: the peer's address and key, or
 * the lease's upstream with the model's watchdog (stall timeout; progress
 * reports only when its busy watchdog is on).
 */
function upstreamInit(c: Exchange, front: Front, init: ForwardInit, target: ConcreteTarget, prepared: Prepared, lease: Lease | null, t: Tracked): ProxyInit {
  const req = c.raw;
  const path = init.path ?? c.path;
  const search = init.search ?? searchOf(req);
  const headers = upstreamRequestHeaders(req.headers, {
    stripAuth: front.deps.config.apiKeys.length > 0 || target.kind === "peer",
    peerKey: target.kind === "peer" ? target.peer.apiKey : null,
    bodyChanged: prepared.bodyChanged,
  });
  if (prepared.contentLength !== undefined) headers.set("content-length", String(prepared.contentLength));
  const model = target.kind === "peer" ? undefined : front.deps.config.models[target.model];
  const timeouts = target.kind === "peer" ? target.peer.timeouts : model?.timeouts;
  // A peer's request (or a selector's pick of one) has no model server of ours, so no watchdog.
  const local = target.kind !== "peer" && lease !== null && lease.peer === null;
  const base = local ? lease.upstream : target.kind === "peer" ? target.peer.proxy : "";
  const watchdog = local ? model?.watchdog : undefined;
  // One literal (no spread of a shared part): it is made for every proxied request.
  const out: ProxyInit = {
    url: upstreamUrl(base, path, search),
    method: req.method,
    headers,
    body: prepared.body,
    abort: t.abort,
    onDone: (clean) => lease?.release(clean),
    inflight: front.inflight,
    headerTimeoutMs: (timeouts?.responseHeader ?? 0) * 1000,
    connectTimeoutMs: (timeouts?.connect ?? 0) * 1000,
    tcpKeepAliveMs: (timeouts?.keepalive ?? 0) * 1000,
    stallMs: (watchdog?.stallTimeout ?? 0) * 1000,
    observer: t.rec,
  };
  // Only when the busy watchdog is on: otherwise the hot path does not even mark the model.
  if (lease !== null && (watchdog?.busyTimeout ?? 0) > 0) out.onProgress = () => lease.progress();
  return out;
}

/** Proxies to the target a lease settles on (`settle`); the lease goes back if the request cannot even be made. */
function proxyWithLease(
  c: Exchange, front: Front, init: ForwardInit, lease: Lease, t: Tracked, settle: (lease: Lease) => { target: ConcreteTarget; prepared: Prepared },
): Promise<Response> {
  let up: ProxyInit;
  try {
    const { target, prepared } = settle(lease);
    up = upstreamInit(c, front, init, target, prepared, lease, t);
  } catch (err) {
    // Nothing was sent (a selector's pick whose filters could not read the body): the lease goes back.
    lease.release(false);
    throw err;
  }
  return proxyRequest(up);
}

async function viaScheduler(c: Exchange, front: Front, init: ForwardInit, plan: Plan, t: Tracked): Promise<Response> {
  // The exchange's one controller ends the wait for a lease as it ends the upstream request.
  const abort = t.abort;
  const viaLease = (lease: Lease) => proxyWithLease(c, front, init, lease, t, plan.settle);
  if (!plan.loadingState) return viaLease(await plan.acquire(acquireOptions(init, abort.signal)));

  const relay = new ProgressRelay();
  const leaseP = plan.acquire(acquireOptions(init, abort.signal, relay.push));
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
  // Progress came first: the model is loading. The upstream request is opened once the lease is granted.
  let watchdog = { stallMs: 0, reportProgress: false };
  const opts: Parameters<typeof loadingStateResponse>[0] = {
    model: plan.label,
    relay,
    lease: leaseP,
    abort,
    inflight: front.inflight,
    observer: t.rec,
    forward: (lease) => {
      const { target, prepared } = plan.settle(lease);
      const up = upstreamInit(c, front, init, target, prepared, lease, t);
      watchdog = { stallMs: up.stallMs ?? 0, reportProgress: up.onProgress !== undefined };
      return fetchUpstream(up);
    },
    watchdog: () => watchdog,
  };
  return loadingStateResponse(opts);
}
