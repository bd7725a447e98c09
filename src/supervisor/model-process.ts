/**
 * One model server process: spawn in its own group, wait until healthy, stop
 * so that nothing it forked survives. The scheduler Worker owns one per start.
 */
import type { Subprocess } from "bun";
import { delay } from "../lib/async.ts";
import type { Clock } from "../lib/clock.ts";
import { Nudge, waitHealthy } from "./health.ts";
import { launchArgv, resolveArgv, stopArgvFor } from "./launch.ts";
import { withoutRuntimeDefaults } from "../lib/runtime-env.ts";
import type { Janitor } from "./janitor.ts";
import { GROUP_TOKEN_ENV, tokenHolders } from "./leftovers.ts";
import { removePidRecord, writePidRecord } from "./pid-record.ts";
import { portInUse } from "./port-check.ts";
import { deniedMessage, describeStuck, groupMembers, isAlive, readProcStat, selfIdentity, signalGroup, signalPid } from "./process-tree.ts";
import { readLines } from "./read-lines.ts";
import { LineRing } from "./ring-buffer.ts";
import { type ExitInfo, StartFailure, describeExit } from "./start-failure.ts";

export { type ExitInfo, StartFailure } from "./start-failure.ts";

/** How to run one model server, resolved from the config by the scheduler. */
export interface ProcessSpec {
  model: string;
  /** Already split; argv[0] looked up on PATH. */
  argv: string[];
  /** Merged over process.env. */
  env: Record<string, string>;
  /** Full URL polled for readiness (GET, 200 = ready), or null: ready as soon as spawned. */
  checkUrl: string | null;
  /** argv of cmdStop with "${PID}" placeholders to substitute, or null for SIGTERM to the group. */
  stopArgv: string[] | null;
  /** Directory for pid records (its `procs/` folder is created if missing). */
  stateDir: string;
  /** The local address the server will listen on, checked free before spawning; null: not checked. */
  listen?: { host: string; port: number } | null;
  /** The state directory's GC: told about every spawn and stop. */
  janitor?: Janitor | null;
}

/** How a stop ended: the exit, and `problem` when something was left (unkillable, not ours to signal). */
export interface StopResult extends ExitInfo {
  problem?: string;
}

/** Callbacks of a model process. */
export interface ModelProcessHooks {
  /** Every output line of stdout and stderr, without the newline. */
  onLog(line: string): void;
}

const GROUP_POLL_MS = 20;
/** After SIGKILL a stop waits at most this long (on the clock) before it reports what is left and goes on. */
export const KILL_WAIT_MS = 5000;
const NOT_SPAWNED: ExitInfo = { code: null, signal: null };

/**
 * How a stop sees the processes it waits for; the real one reads /proc. A test
 * may inject a view in which a process never goes away (a server stuck in
 * uninterruptible sleep on a hung GPU driver cannot be made on demand).
 */
export interface ProcessView {
  /** Live members of group `pgid`. */
  groupMembers(pgid: number): number[];
  /** "pid N in state X" for the first of `pids`. */
  describe(pids: readonly number[]): string;
}

const procView: ProcessView = { groupMembers, describe: describeStuck };

/**
 * A model server process and its process group.
 *
 * @example
 * ```ts
 * const p = new ModelProcess(spec, { onLog: (l) => log.push(l) }, new RealClock());
 * await p.start(AbortSignal.timeout(120_000));
 * // … serve requests on spec.checkUrl's host …
 * await p.stop(5000);
 * ```
 */
export class ModelProcess {
  readonly spec: ProcessSpec;
  /** Settles when the process has exited (any time after spawn), never rejects; `{null, null}` when it never spawned. */
  readonly exited: Promise<ExitInfo>;
  /** When true, health checks count as failing (test hook). */
  healthFail = false;
  /** Why the last health check failed, or null (for the `health_failing` log line). */
  lastHealthError: string | null = null;
  /** True once a stop had to SIGKILL the group (grace over or cmdStop failed). */
  sigkilled = false;

  readonly #hooks: ModelProcessHooks;
  readonly #clock: Clock;
  readonly #ring = new LineRing(100 * 1024);
  /**
   * Every output line probes the health check at once (why: readiness was
   * polled every 2 ms, 30,000 requests a minute of load; now the poll backs
   * off, and a server that says it is ready, as llama-server does, is seen
   * within about a millisecond instead of at the next poll).
   */
  readonly #nudge = new Nudge();
  #settleExited!: (exit: ExitInfo) => void;
  /** Set once the main process exited (or never spawned); `exited` settles with it. */
  #exit: ExitInfo | null = null;
  #proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  /** Process group id; equals the pid (the child calls setsid). */
  #pgid: number | null = null;
  #started = false;
  #stopping: Promise<StopResult> | null = null;
  /** The spawn's token (MODELSWAP_GROUP_TOKEN): what the server forks carries it, in its group or not. */
  #token = "";
  /** Resolves when both output streams ended. */
  #output: Promise<unknown> = Promise.resolve();
  /** Cleanup after an exit nobody asked for: kills what the server forked and removes the record; its problem, if any. */
  #reaping: Promise<string | null> | null = null;
  /** True once the main process exited and its group was seen empty: the pgid may be reused from then on. */
  #groupEmpty = false;

  readonly #view: ProcessView;

  constructor(spec: ProcessSpec, hooks: ModelProcessHooks, clock: Clock, view: ProcessView = procView) {
    this.#view = view;
    this.spec = spec;
    this.#hooks = hooks;
    this.#clock = clock;
    this.exited = new Promise((resolve) => {
      this.#settleExited = resolve;
    });
  }

  /** The main process id once spawned. */
  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** Last `n` captured output lines, oldest first. */
  tail(n: number): string[] {
    return this.#ring.tail(n);
  }

  /**
   * Spawns the server in its own process group and polls `checkUrl` until it
   * answers 200 (every 2 ms at first, backing off to 100 ms; at once on every
   * line the server prints: `health.ts`). Rejects with `StartFailure` when the spawn
   * fails or the process exits first, or with `signal.reason` when `signal`
   * aborts (the caller then calls `stop`). Call at most once.
   */
  async start(signal: AbortSignal): Promise<void> {
    const model = this.spec.model;
    if (this.#started) throw new Error(`Cannot start model '${model}': start() was already called`);
    this.#started = true;
    if (this.#stopping) throw new Error(`Cannot start model '${model}': it was stopped before it started`);
    if (signal.aborted) {
      this.#markExited(NOT_SPAWNED);
      throw signal.reason;
    }
    const listen = this.spec.listen;
    if (listen) {
      const holder = await portInUse(listen.host, listen.port);
      if (holder !== null) {
        this.#markExited(NOT_SPAWNED);
        throw new StartFailure("spawn", `Cannot start model '${model}': port ${listen.port} is already in use${holder}`, null, []);
      }
      if (this.#stopping) throw new Error(`Cannot start model '${model}': it was stopped before it started`);
    }
    this.#spawn();
    if (this.spec.checkUrl === null) return;

    const exitedEarly = this.exited.then(async (exit): Promise<never> => {
      await Promise.race([this.#output, delay(200)]);
      throw new StartFailure(
        "exited",
        `Cannot start model '${model}': the process exited with ${describeExit(exit)} before it was healthy`,
        exit,
        this.tail(10),
      );
    });
    const stopPolling = new AbortController();
    try {
      await Promise.race([
        waitHealthy(this.spec.checkUrl, AbortSignal.any([signal, stopPolling.signal]), {
          nudge: this.#nudge,
          forceFail: () => this.healthFail,
          onFail: (why) => {
            this.lastHealthError = why;
          },
        }),
        exitedEarly,
      ]);
    } finally {
      stopPolling.abort();
    }
  }

  /**
   * Runs cmdStop (with ${PID}) or sends SIGTERM to the group; after `graceMs`
   * on the clock, or at once when cmdStop fails, SIGKILLs the group. Resolves
   * when the main process exited and no process of the group is left (what
   * escaped the group with `setsid` is killed by its spawn token), then
   * removes the pid record. Bounded: 5 s after SIGKILL (or at once when a
   * signal is refused) it resolves anyway, with `problem` naming what is left.
   * Idempotent: later calls return the same promise. Never rejects.
   */
  stop(graceMs: number): Promise<StopResult> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  /** SIGKILLs the whole group immediately (simulates a crash); `exited` settles soon after. */
  kill(): void {
    if (this.#pgid !== null && !this.#groupEmpty) signalGroup(this.#pgid, "SIGKILL");
  }

  #spawn(): void {
    const { model, argv, stateDir } = this.spec;
    const token = crypto.randomUUID();
    this.#token = token;
    const env = this.#env({ [GROUP_TOKEN_ENV]: token });
    let proc: Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn({ cmd: launchArgv(argv, env), env, detached: true, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    } catch (error) {
      this.#markExited(NOT_SPAWNED);
      const why = error instanceof Error ? error.message : String(error);
      throw new StartFailure("spawn", `Cannot start model '${model}': ${why}`, null, [], error);
    }
    this.#proc = proc;
    const stat = readProcStat(proc.pid);
    // The group is the pid (detached: the child calls setsid before exec), never what /proc says this
    // early: where spawn returns before the child ran setsid (qemu-user turns vfork into fork), /proc
    // still shows OUR group, and stopping the model would have killed modelswap and its parent with it.
    this.#pgid = proc.pid;
    this.spec.janitor?.spawned(proc.pid);
    try {
      writePidRecord(stateDir, { pid: proc.pid, pgid: this.#pgid, startTime: stat?.startTime ?? 0, model, argv, token, owner: selfIdentity() });
    } catch (error) {
      this.#hooks.onLog(`modelswap: cannot write the pid record in ${stateDir}: ${String(error)}`);
    }
    this.#output = Promise.all([readLines(proc.stdout, this.#line), readLines(proc.stderr, this.#line)]);
    void proc.exited.then(() => {
      this.#markExited({ code: proc.exitCode, signal: proc.signalCode === null ? null : String(proc.signalCode) });
      // An exit nobody asked for: nothing the server forked may outlive it.
      if (this.#stopping === null) this.#reaping = this.#killRestAndForget(this.#pgid!, proc.pid);
    });
  }

  readonly #line = (line: string): void => {
    this.#ring.push(line);
    this.#nudge.nudge();
    try {
      this.#hooks.onLog(line);
    } catch {
      // A failing log sink must not stop output capture.
    }
  };

  #markExited(exit: ExitInfo): void {
    if (this.#exit !== null) return;
    this.#exit = exit;
    this.#settleExited(exit);
  }

  /** After an exit nobody asked for: SIGKILLs the rest of the group and what escaped it, bounded like a stop. */
  async #killRestAndForget(pgid: number, pid: number): Promise<string | null> {
    let problem: string | null = null;
    const send = (): void => {
      if (signalGroup(pgid, "SIGKILL") === "denied") problem ??= deniedMessage(pid);
    };
    send();
    const bound = new AbortController();
    let over = false;
    this.#clock.sleep(KILL_WAIT_MS, bound.signal).then(() => (over = true), () => undefined);
    try {
      if (!(await this.#groupGone(pgid, send, () => over || problem !== null))) problem ??= `unkillable: ${this.#view.describe(this.#view.groupMembers(pgid))}`;
      problem ??= await this.#killEscaped(() => over);
    } finally {
      bound.abort();
    }
    this.#forget(pid);
    return problem;
  }

  /**
   * Resolves true once the main process exited and group `pgid` has no live
   * member, false as soon as `giveUp()` says so; `tick` runs every poll.
   */
  async #groupGone(pgid: number, tick: () => void, giveUp: () => boolean): Promise<boolean> {
    while (this.#exit === null || this.#view.groupMembers(pgid).length > 0) {
      if (giveUp()) return false;
      tick();
      await delay(GROUP_POLL_MS);
    }
    this.#groupEmpty = true;
    return true;
  }

  /**
   * SIGKILLs what carries this spawn's token outside the group (a descendant
   * that called `setsid`) and waits until it is gone; the problem when it
   * is still there when `giveUp()` says so.
   */
  async #killEscaped(giveUp: () => boolean): Promise<string | null> {
    let left = tokenHolders(this.#token);
    while (left.length > 0) {
      for (const pid of left) if (signalPid(pid, "SIGKILL") === "denied") return deniedMessage(pid);
      if (giveUp()) return `unkillable: ${describeStuck(left)}`;
      await delay(GROUP_POLL_MS);
      left = left.filter((pid) => isAlive(pid));
    }
    return null;
  }

  /** The record goes and the GC is told: from now on nothing may carry this spawn's token. */
  #forget(pid: number): void {
    removePidRecord(this.spec.stateDir, pid);
    this.spec.janitor?.retire(pid, this.#token);
    this.spec.janitor?.pass();
  }

  async #stop(graceMs: number): Promise<StopResult> {
    const proc = this.#proc;
    const pgid = this.#pgid;
    if (proc === null || pgid === null) {
      this.#markExited(NOT_SPAWNED);
      return NOT_SPAWNED;
    }
    let problem: string | null = null;
    let killing = false;
    let killWaitOver = false;
    const timers = new AbortController();
    const send = (signal: NodeJS.Signals): void => {
      if (signal === "SIGKILL") this.sigkilled = true;
      if (signalGroup(pgid, signal) === "denied") problem ??= deniedMessage(proc.pid);
    };
    const escalate = (): void => {
      if (killing) return;
      killing = true;
      send("SIGKILL");
      this.#clock.sleep(KILL_WAIT_MS, timers.signal).then(() => (killWaitOver = true), () => undefined);
    };
    this.#clock.sleep(graceMs, timers.signal).then(escalate, () => undefined);
    if (this.#exit === null) {
      if (this.spec.stopArgv === null) {
        send("SIGTERM");
      } else {
        void this.#runStopCommand(stopArgvFor(this.spec.stopArgv, proc.pid)).then((ok) => ok || escalate());
        // cmdStop addresses the main process; what it forked gets SIGTERM once it is gone.
        void this.exited.then(() => killing || send("SIGTERM"));
      }
    }
    try {
      const giveUp = () => killWaitOver || problem !== null;
      if (!(await this.#groupGone(pgid, () => killing && send("SIGKILL"), giveUp))) {
        problem ??= `unkillable: ${this.#view.describe(this.#exit === null ? [proc.pid] : this.#view.groupMembers(pgid))}`;
      }
      const reaped = this.#reaping === null ? null : await this.#reaping;
      problem ??= reaped;
      if (problem === null) {
        // What escaped the group gets SIGKILL at once (it had its SIGTERM with the group), bounded the same way.
        if (!killing) this.#clock.sleep(KILL_WAIT_MS, timers.signal).then(() => (killWaitOver = true), () => undefined);
        problem = await this.#killEscaped(giveUp);
      }
    } finally {
      timers.abort();
    }
    this.#forget(proc.pid);
    const exit = this.#exit ?? NOT_SPAWNED;
    return problem === null ? exit : { ...exit, problem };
  }

  /** The environment of the model's server and its cmdStop: modelswap's own Bun settings stay its own (runtime-env.ts), the model's env entries and `extra` come on top. */
  #env(extra: Record<string, string> = {}): Record<string, string | undefined> {
    return { ...withoutRuntimeDefaults(process.env), ...this.spec.env, ...extra };
  }

  /** Runs cmdStop, logging its output; true when it exited with code 0. */
  async #runStopCommand(argv: string[]): Promise<boolean> {
    try {
      const env = this.#env();
      const stopper = Bun.spawn({ cmd: resolveArgv(argv, env), env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const output = Promise.all([readLines(stopper.stdout, this.#line), readLines(stopper.stderr, this.#line)]);
      const code = await stopper.exited;
      await Promise.race([output, delay(200)]);
      return code === 0;
    } catch (error) {
      this.#line(`modelswap: cmdStop failed: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }
}
