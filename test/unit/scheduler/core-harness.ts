/**
 * A tiny script language for core tests, so each rule reads as a table of
 * events and the effects they must produce:
 *
 *   req ID MODEL [nostart] [progress] [keep=MS]   cancel ID   release ID
 *   started M   failed M [oom]   stopped M [unkillable]   exited M   activity M[,M...]
 *   sel ID warm|spillover:RESERVE T1,T2,...   (a selector request; `peer:X` names a peer target)
 *   unload M|* RID   shutdown RID [GRACE_MS]   tick T   now T
 *
 * Effects are summarised as `grant ID M`, `reject ID CODE[/retryAfter]`,
 * `start M`, `stop M REASON GRACE`, `kill M`, `reply RID VALUE`, `progress ID PHASE[@POS]`;
 * `stateChanged`, `armTimer`, `inflight` and `request` are listed only when
 * asked for with `verbose`.
 */
import type { Config } from "../../../src/config/types.ts";
import { testConfig } from "../../helpers/config-fixture.ts";
import { SchedulerCore } from "../../../src/scheduler/core.ts";
import type { CoreEvent, Effect } from "../../../src/scheduler/core-types.ts";

export function summarize(e: Effect): string | null {
  switch (e.type) {
    case "grant":
      return `grant ${e.id} ${e.model}`;
    case "reject":
      return `reject ${e.id} ${e.rejection.code}${e.rejection.retryAfter !== undefined ? `/${e.rejection.retryAfter}` : ""}`;
    case "start":
      return `start ${e.model}`;
    case "route":
      return `route ${e.id} ${e.target}`;
    case "stop":
      return `stop ${e.model} ${e.reason} ${e.graceMs}`;
    case "kill":
      return `kill ${e.model}`;
    case "reply":
      return `reply ${e.replyId} ${JSON.stringify(e.reply.value)}`;
    case "progress":
      return `progress ${e.id} ${e.progress.phase}${e.progress.position !== undefined ? `@${e.progress.position}` : ""}`;
    case "armTimer":
      return `timer ${e.at}`;
    case "stateChanged":
      return `state ${e.model} ${e.from}>${e.to}`;
    case "inflight":
      return `inflight ${e.model} ${e.inFlight}/${e.queued}`;
    case "request":
      return `request ${e.id} ${e.action}`;
    case "reusable":
      return `reusable ${e.model} ${e.ok}`;
    case "restartScheduled":
      return `restart ${e.model} in ${e.delayMs} after ${e.failures}${e.fastFail ? " fast-fail" : ""}`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

const quiet = new Set(["armTimer", "stateChanged", "inflight", "request", "restartScheduled", "reusable"]);

/** Drives a core with script lines; `now` only moves with `now`/`tick`. */
export class Harness {
  readonly core: SchedulerCore;
  now = 0;

  /** `random` 0.5 means no jitter: delays are the exact restart figures. */
  constructor(config: Config, random: () => number = () => 0.5) {
    this.core = new SchedulerCore(config, { random, now: 0 });
  }

  /** Parses one script line into a core event. */
  event(line: string): CoreEvent | null {
    const [op, a = "", b = "", c = ""] = line.trim().split(/\s+/);
    const now = this.now;
    switch (op) {
      case "req": {
        const e: CoreEvent = { type: "request", now, id: Number(a), model: b, noStart: [b, c].includes("nostart") || line.includes("nostart"), wantProgress: line.includes("progress") };
        const keep = /keep=(-?\d+)/.exec(line);
        if (keep !== null) e.keepAliveMs = Number(keep[1]);
        return e;
      }
      case "sel": {
        const [strategy, reserve = "1"] = b.split(":") as ["warm" | "spillover", string?];
        const targets = c.split(",").map((t) => t.replace(/^peer:/, ""));
        const peers = c.split(",").filter((t) => t.startsWith("peer:")).map((t) => t.slice(5));
        return { type: "request", now, id: Number(a), model: "sel", noStart: false, wantProgress: false, select: { strategy, targets, peers, reserve: Number(reserve) } };
      }
      case "activity":
        return { type: "activity", now, models: a.split(",") };
      case "cancel":
        return { type: "cancel", now, id: Number(a) };
      case "release":
        return { type: "release", now, id: Number(a) };
      case "started":
        return { type: "started", now, model: a };
      case "failed":
        return { type: "startFailed", now, model: a, message: b === "oom" ? "exited\nCUDA error: out of memory" : "boom" };
      case "stopped":
        return b === "unkillable" ? { type: "stopped", now, model: a, unkillable: "unkillable: pid 7 in state D" } : { type: "stopped", now, model: a };
      case "exited":
        return { type: "exited", now, model: a, message: "crashed" };
      case "unload":
        return { type: "unload", now, model: a === "*" ? null : a, replyId: Number(b) };
      case "shutdown":
        return { type: "shutdown", now, replyId: Number(a), graceMs: Number(b || 0) };
      case "tick":
        this.now = Number(a);
        return { type: "tick", now: this.now };
      case "now":
        this.now = Number(a);
        return null;
      default:
        throw new Error(`Cannot parse script line: ${line}`);
    }
  }

  /** Runs one line and returns its summarised effects. */
  run(line: string, verbose = false): string[] {
    const e = this.event(line);
    if (e === null) return [];
    return this.effects(e, verbose);
  }

  effects(e: CoreEvent, verbose = false): string[] {
    return this.core
      .handle(e)
      .filter((x) => verbose || !quiet.has(x.type))
      .map(summarize)
      .filter((s): s is string => s !== null);
  }

  /** Runs lines, ignoring effects (setup). */
  setup(...lines: string[]): void {
    for (const l of lines) this.run(l);
  }
}

/** A step of a table test: a script line and the effects it must produce. */
export type Step = [line: string, expected: string[]];

/** A named table test: steps played on one fresh harness. */
export type Case = [name: string, steps: Step[]];

/**
 * The two steps most tables open with: request `id` starts `model`, which
 * turns healthy and is granted (`release` true: and the request ends, so the
 * model is idle).
 */
export function served(id: number, model: string, release = false): Step[] {
  const steps: Step[] = [[`req ${id} ${model}`, [`start ${model}`]], [`started ${model}`, [`grant ${id} ${model}`]]];
  return release ? [...steps, [`release ${id}`, []]] : steps;
}

/** Grace of an eviction stop: unloadTimeout 5 s, as every other stop (not llama-swap's healthCheckTimeout). */
export const SWAP = 5_000;
/** Grace of an unload, TTL, health-timeout or shutdown stop: unloadTimeout 5 s. */
export const UNLOAD = 5_000;

/** The config of the "SchedulerCore rules" tables: A, B, C (priority 10), L (concurrencyLimit 2). */
export function rulesConfig(): Config {
  return testConfig({ A: {}, B: {}, C: {}, L: { concurrencyLimit: 2 } }, { priority: { C: 10 } });
}

/** Runs steps, collecting actual effects per step for one `toEqual`. */
export function play(h: Harness, steps: Step[]): Array<[string, string[]]> {
  return steps.map(([line]) => [line, h.run(line)]);
}
