/**
 * The effects runner: executes what the pure core decides (processes, timer,
 * messages) and feeds the outcomes back as core events. It owns the clock and
 * the processes; it never decides anything the core could decide.
 *
 * Invariants:
 * - events reach the core one at a time, in order (`#feed` queues re-entrant
 *   events instead of nesting `handle` calls);
 * - after the core says `stop(m)`, exactly one `stopped(m)` comes back and no
 *   `started`/`startFailed`/`exited` of that process does.
 */
import type { Config } from "../config/types.ts";
import { type Clock, ManualClock, RealClock } from "../lib/clock.ts";
import { SchedulerCore } from "./core.ts";
import type { CoreEvent, Effect } from "./core-types.ts";
import type { ProcessFactory, ProcessHandle, StopResult } from "./process-factory.ts";
import { describeExit } from "../supervisor/start-failure.ts";
import type { Port } from "./port.ts";
import { decodeToWorker, encodeFromWorker, rejection, type Call, type FromWorker, type Rejection, type Reply, type SchedulerEvent, type ToWorker, type WorkerOptions } from "./protocol.ts";
import { Recorder } from "./replay.ts";
import { crashedLine, readyLine, startFailedLine, startingLine, stopLine, stoppedLine, restartScheduledLine, unkillableLine } from "./lifecycle-log.ts";

interface Proc {
  handle: ProcessHandle;
  abort: AbortController;
  phase: "starting" | "ready" | "stopping";
  /** Set when the process exited before its start was reported healthy. */
  exitedEarly: string | null;
  /** `performance.now()` of the start, of turning ready and of the stop request (for lifecycle lines). */
  startAt: number;
  readyAt: number;
  stopAt: number;
}

/** Options beyond the Worker's: injectable randomness for deterministic tests. */
export interface RunnerOptions extends WorkerOptions {
  random?: () => number;
}

/** Drives a `SchedulerCore` over a `Port`. */
export class Runner {
  readonly #port: Port<ToWorker>;
  readonly #factory: ProcessFactory;
  readonly #clock: Clock;
  readonly #core: SchedulerCore;
  readonly #recorder: Recorder | null;
  readonly #procs = new Map<string, Proc>();
  /**
   * Cleanups of processes that exited on their own (crash, failed start), per model:
   * the next start of that model waits for it, or the new server would find the
   * old one's port or memory still held.
   */
  readonly #leaving = new Map<string, Promise<StopResult>>();
  #timer: AbortController | null = null;
  readonly #queue: CoreEvent[] = [];
  #feeding = false;
  /** Start/stop promises not yet fed back: part of "settled". */
  #ops = 0;
  #feeds = 0;
  #randoms: number[] = [];
  readonly #settleWaiters = new Set<() => void>();
  /** Models whose health checks the test hook says must fail. */
  readonly #healthFail = new Set<string>();
  readonly #listener = (e: MessageEvent<ToWorker | string>): void => this.#onMessage(decodeToWorker(e.data));

  constructor(port: Port<ToWorker>, factory: ProcessFactory, config: Config, options: RunnerOptions) {
    this.#port = port;
    this.#factory = factory;
    this.#clock = options.manualClock ? new ManualClock(0) : new RealClock();
    const random = options.random ?? Math.random;
    this.#core = new SchedulerCore(config, {
      now: this.#clock.now(),
      random: () => {
        const r = random();
        this.#randoms.push(r);
        return r;
      },
    });
    this.#recorder = options.recordFile === null ? null : new Recorder(options.recordFile);
    this.#recorder?.write({ kind: "init", now: this.#clock.now(), config });
    port.addEventListener("message", this.#listener);
  }

  /** Stops listening (processes are left to `shutdown`). */
  detach(): void {
    this.#port.removeEventListener("message", this.#listener);
    this.#timer?.abort();
  }

  /** Messages posted during this task, sent as one `batch` at its end (order kept). */
  #outbox: FromWorker[] = [];

  #post(m: FromWorker): void {
    this.#outbox.push(m);
    if (this.#outbox.length === 1) queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    const out = this.#outbox;
    this.#outbox = [];
    if (out.length > 0) this.#port.postMessage(encodeFromWorker(out));
  };

  #event(event: SchedulerEvent): void {
    this.#post({ type: "event", event });
  }

  #onMessage(m: ToWorker): void {
    const now = this.#clock.now();
    switch (m.type) {
      case "init":
        return;
      case "acquire": {
        const e: CoreEvent = { type: "request", now, id: m.id, model: m.model, noStart: m.noStart, wantProgress: m.wantProgress };
        if (m.keepAliveMs !== undefined) e.keepAliveMs = m.keepAliveMs;
        if (m.select !== undefined) e.select = m.select;
        return this.#feed(e);
      }
      case "activity":
        return this.#feed({ type: "activity", now, models: m.models });
      case "release":
        return this.#feed({ type: "release", now, id: m.id });
      case "cancel":
        return this.#feed({ type: "cancel", now, id: m.id });
      case "batch":
        for (const inner of m.messages) this.#onMessage(inner);
        return;
      case "call":
        this.#onCall(m.reqId, m.call).catch((err: unknown) => {
          this.#post({ type: "reply", reqId: m.reqId, ok: false, rejection: rejection("internal", `Cannot complete scheduler call ${m.call.op}: ${String(err)}`) });
        });
        return;
      default: {
        const never: never = m;
        throw new TypeError(`Cannot handle message to the scheduler: ${JSON.stringify(never)}`);
      }
    }
  }

  async #onCall(reqId: number, call: Call): Promise<void> {
    const reply = (r: Reply) => this.#post({ type: "reply", reqId, ok: true, reply: r });
    const now = this.#clock.now();
    switch (call.op) {
      case "status":
        return reply({ op: "status", value: this.#core.status(now).map((s) => ({ ...s, pid: this.#procs.get(s.model)?.handle.pid ?? null })) });
      case "unload":
        return this.#feed({ type: "unload", now, model: call.model, replyId: reqId });
      case "shutdown":
        return this.#feed({ type: "shutdown", now, graceMs: call.graceMs, replyId: reqId });
      case "reload":
        return this.#feed({ type: "reload", now, config: call.config, replyId: reqId });
      case "clockNow":
        return reply({ op: "clockNow", value: now });
      case "clockAdvance": {
        if (!(this.#clock instanceof ManualClock)) {
          this.#post({ type: "reply", reqId, ok: false, rejection: rejection("internal", "Cannot advance the clock as the scheduler runs on the real clock: start with --test-hooks") });
          return;
        }
        const at = this.#clock.advance(call.ms);
        this.#event({ kind: "clock", now: at });
        this.#feed({ type: "tick", now: at });
        await this.#quiesce();
        return reply({ op: "clockAdvance", value: at });
      }
      case "settle":
        return reply({ op: "settle", value: await this.#settle(call.timeoutMs) });
      case "kill": {
        // Reply once the crash has been noticed (the `exited` handler from #start runs first), so a
        // script's next request or `settle` sees the model gone instead of racing the signal.
        const p = this.#procs.get(call.model);
        if (p === undefined) return reply({ op: "kill", value: null });
        this.#ops++;
        p.handle.kill();
        await p.handle.exited;
        this.#opDone();
        return reply({ op: "kill", value: null });
      }
      case "crash":
        reply({ op: "crash", value: null });
        // Thrown outside any handler, as a bug would be: the Worker's `error` listener reports it fatal.
        setTimeout(() => {
          throw new Error("Scheduler crash drill (POST /test/scheduler/crash)");
        }, 0);
        return;
      case "healthOverride": {
        // Kept per model, so it also holds for the next start of a model that is not running yet.
        if (call.fail) this.#healthFail.add(call.model);
        else this.#healthFail.delete(call.model);
        const p = this.#procs.get(call.model);
        if (p) p.handle.healthFail = call.fail;
        return reply({ op: "healthOverride", value: null });
      }
      default: {
        const never: never = call;
        throw new TypeError(`Cannot handle scheduler call: ${JSON.stringify(never)}`);
      }
    }
  }

  /** Queues an event for the core; runs the queue unless already running it. */
  #feed(event: CoreEvent): void {
    this.#queue.push(event);
    if (this.#feeding) return;
    this.#feeding = true;
    try {
      for (let e = this.#queue.shift(); e !== undefined; e = this.#queue.shift()) {
        this.#feeds++;
        this.#recorder?.write({ kind: "event", event: e });
        this.#randoms = [];
        const effects = this.#core.handle(e);
        this.#recorder?.write({ kind: "effects", random: this.#randoms, effects });
        for (const effect of effects) this.#execute(effect);
      }
    } finally {
      this.#feeding = false;
    }
    this.#checkSettled();
  }

  #execute(e: Effect): void {
    switch (e.type) {
      case "grant": {
        this.#post({ type: "granted", id: e.id, upstream: this.#core.config.models[e.model]?.proxy ?? "", model: e.model });
        return this.#event({ kind: "request", model: e.model, id: e.id, action: "granted" });
      }
      case "route":
        return this.#post({ type: "routed", id: e.id, target: e.target });
      case "reject":
        this.#post({ type: "rejected", id: e.id, rejection: withOutputTail(e.rejection, this.#procs.get(e.model)?.handle) });
        return this.#event({ kind: "request", model: e.model, id: e.id, action: "rejected" });
      case "start":
        return this.#start(e.model);
      case "stop":
        this.#logStop(e);
        return this.#stop(e.model, e.graceMs);
      case "kill":
        return this.#procs.get(e.model)?.handle.kill();
      case "armTimer":
        return this.#arm(e.at);
      case "progress":
        return this.#post({ type: "progress", id: e.id, progress: e.progress });
      case "stateChanged": {
        const ev: Extract<SchedulerEvent, { kind: "modelState" }> = { kind: "modelState", model: e.model, state: e.to, previous: e.from };
        if (e.detail !== undefined) ev.detail = e.detail;
        if (e.retryAt !== undefined) ev.retryInMs = Math.max(0, e.retryAt - this.#clock.now());
        if (e.failures !== undefined) ev.failures = e.failures;
        return this.#event(ev);
      }
      case "reply":
        return this.#post({ type: "reply", reqId: e.replyId, ok: true, reply: e.reply });
      case "inflight":
        return this.#event({ kind: "inflight", model: e.model, inFlight: e.inFlight, queued: e.queued });
      case "reusable":
        return this.#post({ type: "reusable", model: e.model, ok: e.ok });
      case "request":
        return this.#event({ kind: "request", model: e.model, id: e.id, action: e.action });
      case "restartScheduled":
        return this.#event(restartScheduledLine(e.model, e.delayMs, e.failures, e.fastFail));
      default: {
        const never: never = e;
        throw new TypeError(`Cannot execute scheduler effect: ${JSON.stringify(never)}`);
      }
    }
  }

  #start(model: string): void {
    const config = this.#core.config.models[model];
    if (config === undefined) return;
    const onLog = (line: string) => this.#event({ kind: "log", source: "upstream", model, line });
    let handle: ProcessHandle;
    try {
      handle = this.#factory.create(config, { onLog }, this.#clock);
    } catch (err) {
      this.#event(startingLine(model, config.cmdText, config.proxy));
      this.#event(startFailedLine(model, 0, String(err)));
      queueMicrotask(() => this.#feed({ type: "startFailed", now: this.#clock.now(), model, message: String(err) }));
      return;
    }
    handle.healthFail = this.#healthFail.has(model);
    // Durations in lifecycle lines are measured in real time (a manual test clock would show 0 s).
    const startAt = performance.now();
    const p: Proc = { handle, abort: new AbortController(), phase: "starting", exitedEarly: null, startAt, readyAt: startAt, stopAt: startAt };
    this.#procs.set(model, p);
    this.#event(startingLine(model, config.cmdText, config.proxy));
    this.#ops++;
    this.#afterLeaving(model)
      .then(() => handle.start(p.abort.signal))
      .then(
        () => {
          if (p.phase !== "starting") return;
          p.phase = "ready";
          p.readyAt = performance.now();
          this.#event(readyLine(model, p.readyAt - p.startAt));
          this.#feed({ type: "started", now: this.#clock.now(), model });
          if (p.exitedEarly !== null) this.#lost(model, p, p.exitedEarly);
        },
        (err: unknown) => {
          if (p.phase !== "starting") return;
          this.#procs.delete(model);
          const message = err instanceof Error ? err.message : String(err);
          this.#event(startFailedLine(model, performance.now() - p.startAt, message));
          this.#feed({ type: "startFailed", now: this.#clock.now(), model, message });
          this.#cleanUp(model, handle); // the group may still hold children
        },
      )
      .finally(() => this.#opDone());
    void handle.exited.then((exit) => {
      const tail = handle.tail?.(5) ?? [];
      const message = [`Model process exited unexpectedly with ${describeExit(exit)}`, ...tail].join("\n");
      if (p.phase === "starting") p.exitedEarly = message;
      else if (p.phase === "ready") this.#lost(model, p, message);
    });
  }

  /** A ready process died on its own: the core hears `exited` once. */
  #lost(model: string, p: Proc, message: string): void {
    if (p.phase !== "ready" || this.#procs.get(model) !== p) return;
    p.phase = "stopping";
    this.#procs.delete(model);
    this.#event(crashedLine(model, performance.now() - p.readyAt, message));
    this.#feed({ type: "exited", now: this.#clock.now(), model, message });
    this.#cleanUp(model, p.handle);
  }

  /** Waits (as a pending op) until what a process that exited on its own left is gone; the next start waits for it too. */
  #cleanUp(model: string, handle: ProcessHandle): void {
    this.#ops++;
    const gone = handle.stop(0).catch((err: unknown): StopResult => ({ code: null, signal: null, problem: `Cannot stop model cleanly: ${String(err)}` }));
    this.#leaving.set(model, gone);
    void gone.then((r) => {
      if (r.problem !== undefined) this.#event(unkillableLine(model, r.problem));
      if (this.#leaving.get(model) === gone) this.#leaving.delete(model);
      this.#opDone();
    });
  }

  /** Resolves once the previous process of `model` is gone; rejects (a start failure) when it could not be removed. */
  async #afterLeaving(model: string): Promise<void> {
    const leaving = this.#leaving.get(model);
    if (leaving === undefined) return;
    const r = await leaving;
    if (r.problem !== undefined) throw Object.assign(new Error(`Cannot start model as its previous process is still there: ${r.problem}`), { reason: "spawn" });
  }

  #stop(model: string, graceMs: number): void {
    const p = this.#procs.get(model);
    if (p === undefined) {
      queueMicrotask(() => this.#feed({ type: "stopped", now: this.#clock.now(), model }));
      return;
    }
    p.phase = "stopping";
    p.stopAt = performance.now();
    p.abort.abort(new Error(`Model ${model} is being stopped`));
    this.#ops++;
    p.handle
      .stop(graceMs)
      .then(
        (r) => r.problem,
        (err: unknown) => `Cannot stop model cleanly: ${String(err)}`,
      )
      .then((problem) => {
        if (this.#procs.get(model) === p) this.#procs.delete(model);
        this.#event(stoppedLine(model, performance.now() - p.stopAt, p.handle.sigkilled ?? false));
        if (problem === undefined) {
          this.#feed({ type: "stopped", now: this.#clock.now(), model });
        } else {
          // Reported loudly; the swap, unload or shutdown goes on without it.
          this.#event(unkillableLine(model, problem));
          this.#feed({ type: "stopped", now: this.#clock.now(), model, unkillable: problem });
        }
        this.#opDone();
      });
  }

  /** The `evicting` / `health_failing` / `unloading` line of a stop, when a process is there to stop. */
  #logStop(e: Extract<Effect, { type: "stop" }>): void {
    const p = this.#procs.get(e.model);
    if (p === undefined || p.phase === "stopping") return;
    const config = this.#core.config;
    const o: Parameters<typeof stopLine>[2] = {
      ttl: config.models[e.model]?.ttl ?? 0,
      healthTimeoutS: config.healthCheckTimeout,
      lastHealth: p.handle.lastHealthError ?? null,
    };
    if (e.for !== undefined) o.forModel = e.for;
    this.#event(stopLine(e.model, e.reason, o));
  }

  #arm(at: number | null): void {
    this.#timer?.abort();
    this.#timer = null;
    if (at === null) return;
    const ctrl = new AbortController();
    this.#timer = ctrl;
    this.#clock.sleep(Math.max(0, at - this.#clock.now()), ctrl.signal).then(
      () => {
        if (this.#timer === ctrl) this.#feed({ type: "tick", now: this.#clock.now() });
      },
      () => {},
    );
  }

  #opDone(): void {
    this.#ops--;
    this.#checkSettled();
  }

  #idle(): boolean {
    return this.#ops === 0 && this.#queue.length === 0 && this.#core.isIdle().idle;
  }

  #checkSettled(): void {
    if (!this.#idle()) return;
    for (const w of [...this.#settleWaiters]) w();
  }

  /** Resolves when the core is idle and no start/stop is pending, or reports what is at timeout (real time). */
  #settle(timeoutMs: number): Promise<{ settled: boolean; pending: string[] }> {
    const pending = () => [...this.#core.isIdle().pending, ...(this.#ops > 0 ? [`${this.#ops} process operation(s) pending`] : [])];
    if (this.#idle()) return Promise.resolve({ settled: true, pending: [] });
    return new Promise((resolve) => {
      const done = (settled: boolean) => {
        clearTimeout(timer);
        this.#settleWaiters.delete(onIdle);
        resolve({ settled, pending: settled ? [] : pending() });
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#settleWaiters.add(onIdle);
    });
  }

  /**
   * "Settled" after clockAdvance: the runner fed no event to the core during
   * one full macrotask turn. Consequences that complete synchronously or via
   * already-resolved promises (fake processes, timers due at the new time) are
   * included; work that takes real time (a real process stopping) is not —
   * use `settle` for that.
   */
  async #quiesce(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const before = this.#feeds;
      await new Promise((r) => setImmediate(r));
      if (this.#feeds === before && this.#queue.length === 0) return;
    }
  }
}

/** Lines of output a health_timeout rejection carries, as a failed start's does. */
const TAIL_LINES = 10;

/**
 * A start that timed out is answered with the server's last output lines
 * (the core decides the 504 but has no output; the process handle does).
 */
function withOutputTail(r: Rejection, handle: ProcessHandle | undefined): Rejection {
  if (r.code !== "health_timeout" || handle?.tail === undefined) return r;
  const lines = handle.tail(TAIL_LINES);
  return lines.length === 0 ? { ...r, message: `${r.message} (it printed nothing)` } : { ...r, message: `${r.message}; its last output:\n${lines.join("\n")}` };
}
