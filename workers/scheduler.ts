/**
 * The scheduler Worker entry: a thin shell that waits for `init`, cleans up
 * what an earlier run left behind, wires the effects runner to `self` with the
 * real process factory, and reports `ready` (or `fatal`).
 */
import { realProcessFactory } from "../src/scheduler/process-factory.ts";
import type { Port } from "../src/scheduler/port.ts";
import type { FromWorker, ToWorker } from "../src/scheduler/protocol.ts";
import { Runner } from "../src/scheduler/runner.ts";
import { cleanupLeftovers } from "../src/supervisor/index.ts";

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
      const removed = await cleanupLeftovers(m.options.stateDir);
      if (removed > 0) {
        post({ type: "event", event: { kind: "log", source: "scheduler", model: "", line: `Removed ${removed} leftover process group(s) of an earlier run` } });
      }
      new Runner(self, realProcessFactory(m.options.stateDir), m.config, m.options);
      post({ type: "ready" });
    } catch (err) {
      fatal(err);
    }
  })();
});
