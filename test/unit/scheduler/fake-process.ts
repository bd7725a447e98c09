/**
 * Fake model processes for runner tests: starts complete when the test says
 * (or at once), stops complete at once, and every call is recorded.
 */
import type { ExitInfo, ProcessFactory, ProcessHandle } from "../../../src/scheduler/process-factory.ts";

export class FakeProcess implements ProcessHandle {
  static nextPid = 90_000;
  readonly pid = FakeProcess.nextPid++;
  healthFail = false;
  readonly exited: Promise<ExitInfo>;
  stops: number[] = [];
  kills = 0;
  /** When set, `stop` rejects with this message (after the process is gone). */
  stopError: string | null = null;
  #exit!: (e: ExitInfo) => void;
  #ready!: () => void;
  #fail!: (err: unknown) => void;

  constructor(readonly model: string, autoReady: boolean) {
    this.exited = new Promise((r) => (this.#exit = r));
    this.#started = new Promise<void>((resolve, reject) => {
      this.#ready = resolve;
      this.#fail = reject;
    });
    if (autoReady) this.#ready();
  }
  readonly #started: Promise<void>;

  start(signal: AbortSignal): Promise<void> {
    return Promise.race([
      this.#started,
      new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
  }
  /** Test control: the health check passes. */
  ready(): void {
    this.#ready();
  }
  /** Test control: the process exits before it is healthy. */
  failStart(message: string): void {
    this.#fail(Object.assign(new Error(message), { reason: "exited" }));
    this.#exit({ code: 1, signal: null });
  }
  stop(graceMs: number): Promise<ExitInfo> {
    this.stops.push(graceMs);
    const e = { code: null, signal: "SIGTERM" };
    this.#exit(e);
    return this.stopError === null ? Promise.resolve(e) : Promise.reject(new Error(this.stopError));
  }
  kill(): void {
    this.kills++;
    this.#exit({ code: null, signal: "SIGKILL" });
  }
}

/** A factory remembering every process it made, in order. */
export function fakeFactory(autoReady = true): ProcessFactory & { made: FakeProcess[] } {
  const made: FakeProcess[] = [];
  return {
    made,
    create(model, hooks) {
      const p = new FakeProcess(model.id, autoReady);
      hooks.onLog(`fake ${model.id} spawned`);
      made.push(p);
      return p;
    },
  };
}
