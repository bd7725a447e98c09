/**
 * `/metrics`: a prom-client registry fed by the two things modelswap already
 * produces, activity rows (one per proxied request) and scheduler events
 * (states, in-flight counts, lifecycle lines), so the exposition can never
 * tell a different story from the logs and the Activity page.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
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
  readonly registry: Registry;
  /** Counts one finished request. */
  observeActivity(e: ActivityEntry): void;
  /** Follows states, in-flight counts and lifecycle events. */
  observeEvent(e: SchedulerEvent): void;
  /** Sets a model's state gauges (at start, from a status snapshot). */
  setState(model: string, state: ModelState): void;
  /** The exposition text. */
  text(): Promise<string>;
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
  const r = [registry];
  const requests = new Counter({ name: "modelswap_requests_total", help: "Proxied requests by model, path and status.", labelNames: ["model", "path", "status"], registers: r });
  const duration = new Histogram({ name: "modelswap_request_duration_seconds", help: "Time from arrival to the last byte sent (streams included).", labelNames: ["model", "path"], buckets: LATENCY_BUCKETS, registers: r });
  const ttfb = new Histogram({ name: "modelswap_time_to_first_byte_seconds", help: "Time from arrival to the first response byte (model load included).", labelNames: ["model", "path"], buckets: LATENCY_BUCKETS, registers: r });
  const tokens = new Counter({ name: "modelswap_tokens_total", help: "Tokens by model and kind (prompt, generated, cached), from usage or timings.", labelNames: ["model", "kind"], registers: r });
  const promptSpeed = new Histogram({ name: "modelswap_prompt_tokens_per_second", help: "Prompt processing speed per request, when the server reports it.", labelNames: ["model"], buckets: SPEED_BUCKETS, registers: r });
  const genSpeed = new Histogram({ name: "modelswap_generation_tokens_per_second", help: "Generation speed per request, when the server reports it.", labelNames: ["model"], buckets: SPEED_BUCKETS, registers: r });
  const inFlight = new Gauge({ name: "modelswap_requests_in_flight", help: "Requests being served by a model.", labelNames: ["model"], registers: r });
  const queued = new Gauge({ name: "modelswap_requests_queued", help: "Requests waiting for a model.", labelNames: ["model"], registers: r });
  const state = new Gauge({ name: "modelswap_model_state", help: "1 for the state each model is in, 0 for the others.", labelNames: ["model", "state"], registers: r });
  const swaps = new Counter({ name: "modelswap_swaps_total", help: "Models loaded (a start that turned ready).", labelNames: ["model"], registers: r });
  const swapTime = new Histogram({ name: "modelswap_swap_duration_seconds", help: "Time from spawn to ready.", labelNames: ["model"], buckets: START_BUCKETS, registers: r });
  const starts = new Counter({ name: "modelswap_model_starts_total", help: "Starts of a model server by outcome (ready, failed).", labelNames: ["model", "outcome"], registers: r });
  const crashes = new Counter({ name: "modelswap_model_crashes_total", help: "Ready model servers that exited on their own.", labelNames: ["model"], registers: r });
  const restarts = new Counter({ name: "modelswap_model_restarts_total", help: "Starts of a model after it had failed.", labelNames: ["model"], registers: r });
  const evictions = new Counter({ name: "modelswap_evictions_total", help: "Stops by reason (swap, ttl, unload, health_timeout, shutdown, reload, watchdog, oom_retry).", labelNames: ["model", "reason"], registers: r });
  const watchdog = new Counter({ name: "modelswap_watchdog_actions_total", help: "Watchdog actions by kind (busy_kill: a busy model stopped; stall: an exchange ended for silence).", labelNames: ["model", "action"], registers: r });
  new Counter({
    name: "modelswap_process_cpu_seconds_total",
    help: "CPU time of modelswap itself (user + system).",
    registers: r,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: "modelswap_process_resident_memory_bytes",
    help: "Resident memory of modelswap itself.",
    registers: r,
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "modelswap_process_heap_bytes",
    help: "JavaScript heap in use by modelswap itself.",
    registers: r,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });

  // The label children of each (model, path), looked up once: prom-client hashes the label object on every call.
  const routeSeries = new Map<string, { byStatus: Map<number, { inc(): void }>; duration: { observe(v: number): void }; ttfb: { observe(v: number): void } }>();

  const loadSeries = new Map<string, { inFlight: { set(v: number): void }; queued: { set(v: number): void } }>();

  const setState = (model: string, to: ModelState): void => {
    for (const s of STATES) state.set({ model, state: s }, s === to ? 1 : 0);
  };

  return {
    registry,
    setState,
    observeActivity(e) {
      const path = pathLabel(e.req_path);
      let perRoute = routeSeries.get(`${e.model}\u0000${path}`);
      if (perRoute === undefined) {
        const labels = { model: e.model, path };
        perRoute = { byStatus: new Map(), duration: duration.labels(labels), ttfb: ttfb.labels(labels) };
        routeSeries.set(`${e.model}\u0000${path}`, perRoute);
      }
      let count = perRoute.byStatus.get(e.resp_status_code);
      if (count === undefined) perRoute.byStatus.set(e.resp_status_code, (count = requests.labels({ model: e.model, path, status: String(e.resp_status_code) })));
      count.inc();
      perRoute.duration.observe(e.duration_ms / 1000);
      perRoute.ttfb.observe(e.ttfb_ms / 1000);
      const t = e.tokens;
      if (t.input_tokens > 0) tokens.inc({ model: e.model, kind: "prompt" }, t.input_tokens);
      if (t.output_tokens > 0) tokens.inc({ model: e.model, kind: "generated" }, t.output_tokens);
      if (t.cache_tokens > 0) tokens.inc({ model: e.model, kind: "cached" }, t.cache_tokens);
      if (t.prompt_per_second > 0) promptSpeed.observe({ model: e.model }, t.prompt_per_second);
      if (t.tokens_per_second > 0) genSpeed.observe({ model: e.model }, t.tokens_per_second);
      // The stall watchdog acts in the proxy: its trace is the exchange's error.
      if (e.error_msg?.includes("upstream stalled")) watchdog.inc({ model: e.model, action: "stall" });
    },
    observeEvent(e) {
      switch (e.kind) {
        case "modelState":
          setState(e.model, e.state);
          if (e.state === "starting" && e.previous === "failed") restarts.inc({ model: e.model });
          return;
        case "inflight": {
          // Two of these per request: the label children are looked up once per model.
          let g = loadSeries.get(e.model);
          if (g === undefined) loadSeries.set(e.model, (g = { inFlight: inFlight.labels({ model: e.model }), queued: queued.labels({ model: e.model }) }));
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
    text: () => registry.metrics(),
  };

  function countLifecycle(e: Extract<SchedulerEvent, { kind: "log" }>): void {
    const model = e.model;
    const field = (k: string): unknown => e.fields?.[k];
    switch (e.event) {
      case "ready": {
        starts.inc({ model, outcome: "ready" });
        swaps.inc({ model });
        const ms = field("durationMs");
        if (typeof ms === "number") swapTime.observe({ model }, ms / 1000);
        return;
      }
      case "start_failed":
        return starts.inc({ model, outcome: "failed" });
      case "crashed":
        return crashes.inc({ model });
      case "evicting":
      case "unloading":
      case "health_failing":
        return evictions.inc({ model, reason: String(field("reason") ?? e.event) });
      case "watchdog":
        if (field("reason") !== undefined) evictions.inc({ model, reason: String(field("reason")) });
        return watchdog.inc({ model, action: String(field("action") ?? "unknown") });
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
