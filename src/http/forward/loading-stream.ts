/**
 * `sendLoadingState`: a streamed chat completion for a model that is not
 * ready gets a 200 SSE stream at once, whose `reasoning_content` deltas show
 * the loading progress (llama-swap's format), then the real upstream stream
 * in the same response. A failed load ends the stream with an error event.
 */
import type { Lease } from "../../scheduler/api.ts";
import type { Progress } from "../../scheduler/protocol.ts";
import { HttpError, sseErrorText, sseUpstreamErrorText, toHttpError } from "../errors.ts";
import { createPushStream, type PushStream } from "../stream/push-stream.ts";
import { SSE_HEADERS, sseData } from "../stream/sse.ts";
import type { InflightTracker } from "./inflight.ts";
import type { ExchangeObserver } from "./proxy.ts";
import type { ChunkSource } from "../stream/push-stream.ts";
import { stalled } from "./stream-guard.ts";

/**
 * One SSE chunk whose first choice carries `text` as reasoning content.
 * `index: 0` is more than llama-swap sends, and needed: the OpenAI SDK's
 * `chat.completions.stream()` helper throws on a choice without an index.
 */
export function reasoningChunk(text: string): string {
  return sseData(JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content: text } }] }));
}

/** Buffers progress until a listener attaches (why: progress may arrive before we decide to stream it). */
export class ProgressRelay {
  readonly #buffer: Progress[] = [];
  #listener: ((p: Progress) => void) | null = null;
  #resolveFirst: () => void = () => {};
  /** Resolves on the first progress message. */
  readonly first: Promise<void> = new Promise((resolve) => {
    this.#resolveFirst = resolve;
  });

  push = (p: Progress): void => {
    this.#resolveFirst();
    if (this.#listener) this.#listener(p);
    else this.#buffer.push(p);
  };

  listen(fn: (p: Progress) => void): void {
    this.#listener = fn;
    for (const p of this.#buffer.splice(0)) fn(p);
  }

  stop(): void {
    this.#listener = null;
  }
}

export interface LoadingInit {
  model: string;
  relay: ProgressRelay;
  lease: Promise<Lease>;
  /** Opens the upstream request for a granted lease (fetch with the filtered body). */
  forward: (lease: Lease) => Promise<Response>;
  /** Aborts acquire and the upstream fetch; aborted when the client leaves. */
  abort: AbortController;
  inflight?: InflightTracker;
  /** Sees the exchange (the activity record); `end` may be called more than once, the first counts. */
  observer?: ExchangeObserver;
  /** ms between keep-alive dots (llama-swap: 1 s). */
  tickMs?: number;
  /**
   * The chosen model's watchdog for the relayed upstream stream, read once
   * `forward` has run: `stallMs` (0: off; see `ProxyInit.stallMs`) and
   * whether each chunk is reported to the lease (its busy watchdog is on).
   */
  watchdog?: () => { stallMs: number; reportProgress: boolean };
}

/** One loading-state response: its push stream, and what must be undone exactly once when it ends. */
interface Loading {
  readonly init: LoadingInit;
  readonly out: PushStream;
  readonly started: number;
  /** Set once the scheduler grants the lease; released when the stream ends. */
  lease: Lease | null;
}

/** Builds the loading-state SSE response (status 200 from the first byte). */
export function loadingStateResponse(init: LoadingInit): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  let removeInflight = () => {};
  const out = createPushStream({
    // The dots and progress lines are tiny and stop when the model is ready: no slow-client limit.
    maxQueuedBytes: Number.POSITIVE_INFINITY,
    onCancel: (reason) => init.abort.abort(reason),
    onClose: () => {
      clearInterval(timer);
      init.relay.stop();
      removeInflight();
      loading.lease?.release();
      init.observer?.end(null);
    },
  });
  init.observer?.response(200, new Headers(SSE_HEADERS));
  const loading: Loading = { init, out, started: performance.now(), lease: null };

  line(out, "━━━━━");
  line(out, `modelswap loading model: ${init.model}`);
  init.relay.listen((p) => line(out, p.message));
  timer = setInterval(() => out.push(reasoningChunk(".")), init.tickMs ?? 1000);
  if (init.inflight) {
    const inflight = init.inflight;
    const entry = {
      end(reason: string) {
        // shutting_down, as a drain ends every other response: a plain Error would become `internal`.
        const e = new HttpError("shutting_down", reason);
        init.abort.abort(e);
        fail(out, e);
      },
    };
    inflight.add(entry);
    removeInflight = () => inflight.remove(entry);
  }
  void relayWhenReady(loading, () => clearInterval(timer));
  return new Response(out.stream, { status: 200, headers: SSE_HEADERS });
}

/** One line of loading text as a reasoning chunk. */
function line(out: PushStream, text: string): void {
  out.push(reasoningChunk(`${text}\n`));
}

/** Ends the stream with an SSE error event (why: a stream that already said 200 can only fail in-band). */
function fail(out: PushStream, err: unknown, observer?: ExchangeObserver): void {
  const e = toHttpError(err);
  observer?.end(e.message);
  out.push(sseErrorText(e.code, e.message));
  out.close();
}

/** Waits for the lease, closes the loading text, then relays the upstream stream in the same response. */
async function relayWhenReady(loading: Loading, stopTicking: () => void): Promise<void> {
  const { init, out } = loading;
  let lease: Lease;
  try {
    lease = await init.lease;
  } catch (err) {
    fail(out, err, init.observer);
    return;
  }
  if (out.closed) {
    lease.release();
    return;
  }
  loading.lease = lease;
  stopTicking();
  init.relay.stop();
  line(out, `\nDone! (${((performance.now() - loading.started) / 1000).toFixed(2)}s)`);
  line(out, "━━━━━");
  line(out, " ");
  let upstream: Response;
  try {
    upstream = await init.forward(lease);
  } catch (err) {
    fail(out, err, init.observer);
    return;
  }
  if (upstream.status !== 200 || upstream.body === null) {
    // The 200 already went out: the upstream's own error body and status travel in the error event.
    const text = await upstream.text().catch(() => "");
    init.observer?.response(upstream.status, upstream.headers);
    init.observer?.end(`upstream answered ${upstream.status}`);
    out.push(sseUpstreamErrorText(upstream.status, text));
    out.close();
    return;
  }
  const observer = init.observer;
  observer?.response(upstream.status, upstream.headers);
  // The activity record sees each chunk as it is relayed (a count and a reference, nothing more).
  const onChunk = observer === undefined ? null : (c: Uint8Array) => observer.chunk(c);
  const dog = init.watchdog?.() ?? { stallMs: 0, reportProgress: false };
  const source = watched(upstream.body.getReader(), dog.stallMs, dog.reportProgress ? () => lease.progress() : null, (e) => fail(out, e, observer), onChunk);
  out.follow(source, (err) => {
    source.stop();
    if (err === null) return observer?.end(null);
    const msg = err instanceof Error ? err.message : String(err);
    fail(out, new HttpError("upstream_error", `Cannot finish response: the upstream stream failed: ${msg}`), observer);
  });
}

/**
 * The upstream reader as `follow` reads it, with the watchdog's two duties:
 * each chunk is progress, and no chunk moved for `stallMs` (upstream silent,
 * or the client not pulling) ends the stream with `upstream stalled`.
 */
function watched(
  reader: ChunkSource,
  stallMs: number,
  progress: (() => void) | null,
  onStall: (e: Error) => void,
  onChunk: ((c: Uint8Array) => void) | null = null,
): ChunkSource & { stop(): void } {
  let stopped = false;
  let lastMove = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    if (stopped) return;
    const idle = performance.now() - lastMove;
    if (idle < stallMs) {
      timer = setTimeout(check, stallMs - idle);
      return;
    }
    stopped = true;
    const e = stalled(stallMs);
    reader.cancel(e).catch(() => {});
    onStall(e);
  };
  if (stallMs > 0) timer = setTimeout(check, stallMs);
  return {
    async read() {
      const r = await reader.read();
      if (!r.done) {
        lastMove = performance.now();
        progress?.();
        onChunk?.(r.value);
      }
      return r;
    },
    cancel: (reason?: unknown) => reader.cancel(reason),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
