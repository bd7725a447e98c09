/**
 * Wires the scheduler's event feed into the two hubs: every event is
 * sequenced for `/api/events`, upstream output lands in the log buffers, and
 * proxy log lines are published as `proxyLog` events so one SSE stream
 * carries everything the UI shows.
 */
import type { Scheduler } from "../scheduler/api.ts";
import type { SchedulerEvent } from "../scheduler/protocol.ts";
import type { EventHub, LogHub } from "./types.ts";

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
      else logs.append("proxy", null, `[${event.model}] ${event.line}`);
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
