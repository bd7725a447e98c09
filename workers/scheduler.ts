/**
 * The scheduler Worker entry: a thin shell that waits for `init`, sweeps
 * what an earlier run left behind, starts the GC pass, wires the effects
 * runner to `self` with the real process factory, and reports `ready` (or
 * `fatal`).
 */
import { realProcessFactory } from "../src/scheduler/process-factory.ts";
import type { Port } from "../src/scheduler/port.ts";
import type { FromWorker, ToWorker } from "../src/scheduler/protocol.ts";
import { Runner } from "../src/scheduler/runner.ts";
import { cleanupLeftovers, Janitor } from "../src/supervisor/index.ts";

declare const self: Port<ToWorker> & { addEventListener(type: "error" | "unhandledrejection", listener: (e: Event) => void): void };

const post = (m: FromWorker) => self.postMessage(m);
const fatal = (what: unknown) => {
  const message = what instanceof Error ? `${what.message}\n${what.stack ?? ""}` : String(what);
  post({ type: "fatal", message: `Scheduler worker failed: ${message}` });
};

self.addEventListener("error", (e) => fatal((e as ErrorEvent).error ?? (e as ErrorEvent).message));
self.addEventListener("unhandledrejection", (e) => fatal((e as Event & { reason?: unknown }).reason));

let started = false;
self.addEventListener("message", (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type !== "init" || started) return;
  started = true;
  void (async () => {
    try {
      const log = (line: string) => post({ type: "event", event: { kind: "log", source: "scheduler", model: "", line } });
      // The predecessor sweep, under the state dir's lock (taken by the main thread), before any model starts.
      const killed = await cleanupLeftovers(m.options.stateDir);
      const janitor = new Janitor(m.options.stateDir, log);
      janitor.start();
      new Runner(self, realProcessFactory(m.options.stateDir, janitor), m.config, m.options);
      post({ type: "ready" });
      // After `ready`: the main thread subscribes to events only once the scheduler is up.
      if (killed > 0) log(`sweep: killed ${killed} leftover process(es) of an earlier run`);
      // This thread's own heap (the main thread collects its own): the garbage of loading its modules and
      // starting, given back before the first request (idle RSS -0.5 MB, 3 of 3 interleaved runs).
      Bun.gc(true);
    } catch (err) {
      fatal(err);
    }
  })();
});
