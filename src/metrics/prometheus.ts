/**
 * `/metrics`: a registry (`exposition.ts`) fed by the two things modelswap
 * already produces, activity rows (one per proxied request) and scheduler
 * events (states, in-flight counts, lifecycle lines), so the exposition can
 * never tell a different story from the logs and the Activity page.
 */
import { CONTENT_TYPE, Histogram, Reading, Registry, Value } from "./exposition.ts";
import type { ModelState, SchedulerEvent } from "../scheduler/protocol.ts";
import type { ActivityEntry } from "./activity.ts";

/** Every state a model can be in, for the one-hot `modelswap_model_state` gauge. */
const STATES: readonly ModelState[] = ["stopped", "starting", "ready", "stopping", "failed", "shutdown"];

/** Seconds buckets for request latency and TTFB: 5 ms to 10 min (generations are long). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds buckets for model starts: 50 ms to 10 min. */
const START_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
/** Tokens per second buckets. */
const SPEED_BUCKETS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000];

/** The `path` label: the route, with `/upstream/<model>/...` folded so labels stay few. */
export function pathLabel(path: string): string {
  return path.startsWith("/upstream/") ? "/upstream" : path;
}

/** The registry and what feeds it. */
export interface PromMetrics {
  /** The Content-Type of `text()`. */
  readonly contentType: string;
  /** Counts one finished request. */
  observeActivity(e: ActivityEntry): void;
  /** Follows states, in-flight counts and lifecycle events. */
  observeEvent(e: SchedulerEvent): void;
  /** Sets a model's state gauges (at start, from a status snapshot). */
  setState(model: string, state: ModelState): void;
  /** The exposition text. */
  text(): string;
}

/**
 * Creates the registry with every modelswap metric.
 *
 * @example
 * ```ts
 * const prom = createPromMetrics();
 * scheduler.onEvent((e) => prom.observeEvent(e));
 * const body = await prom.text();
 * ```
 */
export function createPromMetrics(): PromMetrics {
  const registry = new Registry();
  const counter = (name: string, help: string, labels: string[]) => registry.add(new Value(name, help, "counter", labels));
  const gauge = (name: string, help: string, labels: string[]) => registry.add(new Value(name, help, "gauge", labels));
  const histogram = (name: string, help: string, labels: string[], buckets: number[]) => registry.add(new Histogram(name, help, labels, buckets));
  const requests = counter("modelswap_requests_total", "Proxied requests by model, path and status.", ["model", "path", "status"]);
  const duration = histogram("modelswap_request_duration_seconds", "Time from arrival to the last byte sent (streams included).", ["model", "path"], LATENCY_BUCKETS);
  const ttfb = histogram("modelswap_time_to_first_byte_seconds", "Time from arrival to the first response byte (model load included).", ["model", "path"], LATENCY_BUCKETS);
  const tokens = counter("modelswap_tokens_total", "Tokens by model and kind (prompt, generated, cached), from usage or timings.", ["model", "kind"]);
  const promptSpeed = histogram("modelswap_prompt_tokens_per_second", "Prompt processing speed per request, when the server reports it.", ["model"], SPEED_BUCKETS);
  const genSpeed = histogram("modelswap_generation_tokens_per_second", "Generation speed per request, when the server reports it.", ["model"], SPEED_BUCKETS);
  const inFlight = gauge("modelswap_requests_in_flight", "Requests being served by a model.", ["model"]);
  const queued = gauge("modelswap_requests_queued", "Requests waiting for a model.", ["model"]);
  const state = gauge("modelswap_model_state", "1 for the state each model is in, 0 for the others.", ["model", "state"]);
  const swaps = counter("modelswap_swaps_total", "Models loaded (a start that turned ready).", ["model"]);
  const swapTime = histogram("modelswap_swap_duration_seconds", "Time from spawn to ready.", ["model"], START_BUCKETS);
  const starts = counter("modelswap_model_starts_total", "Starts of a model server by outcome (ready, failed).", ["model", "outcome"]);
  const crashes = counter("modelswap_model_crashes_total", "Ready model servers that exited on their own.", ["model"]);
  const restarts = counter("modelswap_model_restarts_total", "Starts of a model after it had failed.", ["model"]);
  const evictions = counter("modelswap_evictions_total", "Stops by reason (swap, ttl, unload, health_timeout, shutdown, reload, watchdog, oom_retry).", ["model", "reason"]);
  const watchdog = counter("modelswap_watchdog_actions_total", "Watchdog actions by kind (busy_kill: a busy model stopped; stall: an exchange ended for silence).", ["model", "action"]);
  registry.add(
    new Reading("modelswap_process_cpu_seconds_total", "CPU time of modelswap itself (user + system).", "counter", () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }),
  );
  registry.add(new Reading("modelswap_process_resident_memory_bytes", "Resident memory of modelswap itself.", "gauge", () => process.memoryUsage().rss));
  registry.add(new Reading("modelswap_process_heap_bytes", "JavaScript heap in use by modelswap itself.", "gauge", () => process.memoryUsage().heapUsed));

  // The series handles of each (model, path) and each model, looked up once: no label key is built per request.
  const routeSeries = new Map<string, Map<string, { byStatus: Map<number, { inc(): void }>; duration: { observe(v: number): void }; ttfb: { observe(v: number): void } }>>();
  const modelSeries = new Map<string, {
    prompt: { inc(by: number): void }; generated: { inc(by: number): void }; cached: { inc(by: number): void };
    promptSpeed: { observe(v: number): void }; genSpeed: { observe(v: number): void };
  }>();

  const loadSeries = new Map<string, { inFlight: { set(v: number): void }; queued: { set(v: number): void } }>();

  const setState = (model: string, to: ModelState): void => {
    for (const s of STATES) state.set([model, s], s === to ? 1 : 0);
  };

  return {
    contentType: CONTENT_TYPE,
    setState,
    observeActivity(e) {
      const model = e.model;
      const path = pathLabel(e.req_path);
      let byPath = routeSeries.get(model);
      if (byPath === undefined) routeSeries.set(model, (byPath = new Map()));
      let perRoute = byPath.get(path);
      if (perRoute === undefined) {
        const labels = [model, path];
        byPath.set(path, (perRoute = { byStatus: new Map(), duration: duration.labels(labels), ttfb: ttfb.labels(labels) }));
      }
      let count = perRoute.byStatus.get(e.resp_status_code);
      if (count === undefined) perRoute.byStatus.set(e.resp_status_code, (count = requests.labels([model, path, String(e.resp_status_code)])));
      count.inc();
      perRoute.duration.observe(e.duration_ms / 1000);
      perRoute.ttfb.observe(e.ttfb_ms / 1000);
      let m = modelSeries.get(model);
      if (m === undefined) {
        m = {
          prompt: tokens.labels([model, "prompt"]), generated: tokens.labels([model, "generated"]), cached: tokens.labels([model, "cached"]),
          promptSpeed: promptSpeed.labels([model]), genSpeed: genSpeed.labels([model]),
        };
        modelSeries.set(model, m);
      }
      const t = e.tokens;
      if (t.input_tokens > 0) m.prompt.inc(t.input_tokens);
      if (t.output_tokens > 0) m.generated.inc(t.output_tokens);
      if (t.cache_tokens > 0) m.cached.inc(t.cache_tokens);
      if (t.prompt_per_second > 0) m.promptSpeed.observe(t.prompt_per_second);
      if (t.tokens_per_second > 0) m.genSpeed.observe(t.tokens_per_second);
      // The stall watchdog acts in the proxy: its trace is the exchange's error.
      if (e.error_msg?.includes("upstream stalled")) watchdog.inc([e.model, "stall"]);
    },
    observeEvent(e) {
      switch (e.kind) {
        case "modelState":
          setState(e.model, e.state);
          if (e.state === "starting" && e.previous === "failed") restarts.inc([e.model]);
          return;
        case "inflight": {
          // Two of these per request: the label children are looked up once per model.
          let g = loadSeries.get(e.model);
          if (g === undefined) loadSeries.set(e.model, (g = { inFlight: inFlight.labels([e.model]), queued: queued.labels([e.model]) }));
          g.inFlight.set(e.inFlight);
          g.queued.set(e.queued);
          return;
        }
        case "log":
          return countLifecycle(e);
        case "request":
        case "clock":
          return;
        default: {
          const never: never = e;
          throw new TypeError(`Cannot count scheduler event: ${JSON.stringify(never)}`);
        }
      }
    },
    text: () => registry.text(),
  };

  function countLifecycle(e: Extract<SchedulerEvent, { kind: "log" }>): void {
    const model = e.model;
    const field = (k: string): unknown => e.fields?.[k];
    switch (e.event) {
      case "ready": {
        starts.inc([model, "ready"]);
        swaps.inc([model]);
        const ms = field("durationMs");
        if (typeof ms === "number") swapTime.observe([model], ms / 1000);
        return;
      }
      case "start_failed":
        return starts.inc([model, "failed"]);
      case "crashed":
        return crashes.inc([model]);
      case "evicting":
      case "unloading":
      case "health_failing":
        return evictions.inc([model, String(field("reason") ?? e.event)]);
      case "watchdog":
        if (field("reason") !== undefined) evictions.inc([model, String(field("reason"))]);
        return watchdog.inc([model, String(field("action") ?? "unknown")]);
      case "starting":
      case "restart_scheduled":
      case "stopped":
      case "unkillable":
      case undefined:
        return;
      default: {
        const never: never = e.event;
        throw new TypeError(`Cannot count lifecycle event: ${String(never)}`);
      }
    }
  }
}
