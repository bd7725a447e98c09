/**
 * The whole scheduler actor on one thread: the real runner and client over a
 * MessageChannel, with fake model processes and a manual clock (no Worker, no
 * process). Runner, lifecycle-log and HTTP tests all start it this way; every
 * actor still open is closed after each test.
 */
import { afterEach } from "bun:test";
import type { Config } from "../../../src/config/types.ts";
import { createSchedulerOverPort, type SchedulerClient } from "../../../src/scheduler/client.ts";
import type { SchedulerEvent } from "../../../src/scheduler/protocol.ts";
import { Runner } from "../../../src/scheduler/runner.ts";
import { type FakeProcess, fakeFactory } from "./fake-process.ts";

const open = new Set<ChannelActor>();
afterEach(() => {
  for (const a of open) a.dispose();
});

export interface ActorOptions {
  /** False: a started process stays `starting` until the test calls `ready()` on it (default true). */
  autoReady?: boolean;
  /** `--record` file for the runner (default none). */
  recordFile?: string | null;
  /** The runner's jitter source (default 0: no jitter). */
  random?: () => number;
}

export interface ChannelActor {
  client: SchedulerClient;
  runner: Runner;
  /** The fake processes the runner started, in order. */
  made: FakeProcess[];
  /** Every scheduler event, in order. */
  events: SchedulerEvent[];
  /** Detaches the runner and closes the client and both ports; once. */
  dispose(): void;
}

/**
 * Starts the actor for `config`.
 *
 * @example
 * ```ts
 * const { client, made } = channelActor(testConfig(["A"]), { autoReady: false });
 * const lease = client.acquire("A");
 * ```
 */
export function channelActor(config: Config, options: ActorOptions = {}): ChannelActor {
  const { port1, port2 } = new MessageChannel();
  const factory = fakeFactory(options.autoReady ?? true);
  const runner = new Runner(port2, factory, config, {
    manualClock: true,
    recordFile: options.recordFile ?? null,
    stateDir: "/nonexistent",
    selfCommand: [],
    random: options.random ?? (() => 0),
  });
  const client = createSchedulerOverPort(port1);
  const events: SchedulerEvent[] = [];
  client.onEvent((e) => events.push(e));
  port1.start();
  port2.start();
  const actor: ChannelActor = {
    client,
    runner,
    made: factory.made,
    events,
    dispose() {
      if (!open.delete(actor)) return;
      runner.detach();
      client.close();
      port1.close();
      port2.close();
    },
  };
  open.add(actor);
  return actor;
}
