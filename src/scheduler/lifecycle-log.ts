/**
 * The lifecycle log lines of one model, as data: what the runner saw (a
 * spawn, a health answer, an exit, a stop and why) turned into a level, an
 * event name, a sentence and fields. The main thread formats them
 * (`src/observe`) and counts them (`src/metrics/`), so the text
 * and the Prometheus counters can never disagree.
 */
import type { LogLevel } from "../config/types.ts";
import type { StopReason } from "./core-types.ts";
import type { LifecycleEvent, LogFields, SchedulerEvent } from "./protocol.ts";

/** A lifecycle `log` event for `model`. */
export type LifecycleLine = Extract<SchedulerEvent, { kind: "log" }>;

function line(model: string, level: LogLevel, event: LifecycleEvent, text: string, fields: LogFields): LifecycleLine {
  return { kind: "log", source: "scheduler", model, line: text, level, event, fields };
}

/** Seconds with two decimals, as people read durations in logs. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** The port a model's `proxy` URL names (its default for the scheme when none is written). */
export function portOf(proxy: string): number | null {
  try {
    const u = new URL(proxy);
    if (u.port !== "") return Number(u.port);
    return u.protocol === "https:" ? 443 : 80;
  } catch {
    return null;
  }
}

/** `starting`: the command and the port it will answer on. */
export function startingLine(model: string, cmd: string, proxy: string): LifecycleLine {
  const port = portOf(proxy);
  return line(model, "info", "starting", `starting: ${cmd}${port === null ? "" : ` (port ${port})`}`, { cmd, port });
}

/** `ready`: how long the start took. */
export function readyLine(model: string, tookMs: number): LifecycleLine {
  return line(model, "info", "ready", `ready after ${seconds(tookMs)}`, { durationMs: tookMs });
}

/** `start_failed`: exit code or signal and the server's last lines (already in `message`). */
export function startFailedLine(model: string, tookMs: number, message: string): LifecycleLine {
  const [first = "", ...tail] = message.split("\n");
  const last = tail.length > 0 ? `; last output: ${tail.join(" | ")}` : "";
  return line(model, "error", "start_failed", `start failed after ${seconds(tookMs)}: ${first}${last}`, { durationMs: tookMs, error: message });
}

/** `crashed`: a ready server exited on its own. */
export function crashedLine(model: string, readyMs: number, message: string): LifecycleLine {
  return line(model, "error", "crashed", `crashed after ${seconds(readyMs)} ready: ${message}`, { uptimeMs: readyMs, error: message });
}

/** Why a stop was asked for, in words. */
function reasonText(reason: StopReason, ttl: number, forModel: string | undefined): string {
  switch (reason) {
    case "swap":
      return forModel === undefined ? "evicting to make room" : `evicting to make room for ${forModel}`;
    case "unload":
      return "unloading: unload requested";
    case "ttl":
      return `unloading: idle for ttl ${ttl}s`;
    case "health_timeout":
      return "stopping: health check did not pass in time";
    case "shutdown":
      return "unloading: modelswap is shutting down";
    case "reload":
      return "unloading: its configuration changed";
    case "watchdog":
      return "stopping: busy with no byte sent to any client for watchdog.busyTimeout (watchdog)";
    case "oom_retry":
      return forModel === undefined ? "evicting to retry a start that ran out of memory" : `evicting to retry ${forModel}, whose start ran out of memory`;
    default: {
      const never: never = reason;
      throw new TypeError(`Cannot describe stop reason: ${String(never)}`);
    }
  }
}

/**
 * The line for a stop the core asked for: `evicting` (for whom),
 * `health_failing` (with the last health answer), or `unloading` (why).
 */
export function stopLine(model: string, reason: StopReason, o: { ttl: number; forModel?: string; healthTimeoutS: number; lastHealth?: string | null }): LifecycleLine {
  const fields: LogFields = { reason };
  if (reason === "swap" || reason === "oom_retry") {
    if (o.forModel !== undefined) fields.for = o.forModel;
    return line(model, "info", "evicting", reasonText(reason, o.ttl, o.forModel), fields);
  }
  if (reason === "watchdog") {
    fields.action = "busy_kill";
    return line(model, "warn", "watchdog", reasonText(reason, o.ttl, o.forModel), fields);
  }
  if (reason === "health_timeout") {
    const why = o.lastHealth ? ` (last check: ${o.lastHealth})` : "";
    fields.lastCheck = o.lastHealth ?? null;
    return line(model, "warn", "health_failing", `health check failing: not healthy within ${o.healthTimeoutS}s${why}; stopping`, fields);
  }
  return line(model, "info", "unloading", reasonText(reason, o.ttl, o.forModel), fields);
}

/** `stopped`: how long the stop took and whether SIGKILL was needed. */
export function stoppedLine(model: string, tookMs: number, killed: boolean): LifecycleLine {
  return line(model, "info", "stopped", `stopped in ${seconds(tookMs)}${killed ? " (SIGKILL needed)" : ""}`, { durationMs: tookMs, sigkill: killed });
}
