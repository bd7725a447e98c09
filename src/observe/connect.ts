/**
 * Wires the scheduler's event feed into the two hubs: every event is
 * sequenced for `/api/events`, upstream output lands in the log buffers, and
 * proxy log lines are published as `proxyLog` events so one SSE stream
 * carries everything the UI shows.
 */
import type { Scheduler } from "../scheduler/api.ts";
import type { SchedulerEvent } from "../scheduler/protocol.ts";
import type { EventHub, LogHub } from "./types.ts";
import type { LogRecord } from "./log-format.ts";
import type { MetricsHub } from "../metrics/index.ts";

/** A scheduler line (lifecycle or other) as a proxy log record tagged with its model. */
export function schedulerRecord(e: Extract<SchedulerEvent, { kind: "log" }>): Omit<LogRecord, "time"> {
  const r: Omit<LogRecord, "time"> = { source: "proxy", level: e.level ?? "info", model: e.model, event: e.event ?? null, msg: e.line };
  if (e.fields !== undefined) r.fields = e.fields;
  return r;
}

/**
 * Connects `scheduler` to `logs` and `events`; returns the function that disconnects.
 *
 * @example
 * ```ts
 * const disconnect = connectHubs(scheduler, logs, events);
 * // ... on shutdown
 * disconnect();
 * ```
 */
export function connectHubs(scheduler: Scheduler, logs: LogHub, events: EventHub): () => void {
  /** True while a scheduler log line is being appended, so it is not published a second time as `proxyLog`. */
  let fromScheduler = false;

  const offScheduler = scheduler.onEvent((event: SchedulerEvent) => {
    events.publish(event);
    if (event.kind !== "log") return;
    fromScheduler = true;
    try {
      if (event.source === "upstream") logs.append("upstream", event.model, event.line);
      else logs.write(schedulerRecord(event));
    } finally {
      fromScheduler = false;
    }
  });

  const offLogs = logs.subscribe({ kind: "proxy" }, (line) => {
    if (!fromScheduler) events.publish({ kind: "proxyLog", line: line.text });
  });

  return () => {
    offScheduler();
    offLogs();
  };
}

/**
 * Feeds the metrics subsystem: scheduler events into `/metrics`, and each
 * finished request's activity row into the event hub (the `metrics` frames
 * of `/api/events`). Returns the function that disconnects.
 *
 * @example
 * ```ts
 * connectMetrics(scheduler, metrics, events);
 * ```
 */
export function connectMetrics(scheduler: Scheduler, metrics: MetricsHub, events: EventHub): () => void {
  const offScheduler = scheduler.onEvent((e) => metrics.observeEvent(e));
  const offActivity = metrics.onActivity((entry) => events.publish({ kind: "activity", entry }));
  return () => {
    offScheduler();
    offActivity();
  };
}
