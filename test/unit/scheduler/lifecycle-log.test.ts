/**
 * Lifecycle log lines: every state change of a model is a line tagged with
 * the model id and an event, emitted by the runner as it acts (fake
 * processes, manual clock), with the facts an operator needs.
 */
import { describe, expect, test } from "bun:test";
import type { Config } from "../../../src/config/types.ts";
import { portOf, startFailedLine, stopLine } from "../../../src/scheduler/lifecycle-log.ts";
import { poll } from "../../../src/lib/async.ts";
import { testConfig } from "../../helpers/config-fixture.ts";
import { channelActor } from "./channel-actor.ts";

function setup(config: Config, autoReady = true) {
  const { client: scheduler, made, events } = channelActor(config, { autoReady });
  const factory = { made };
  /** The lifecycle lines so far as "model event: text", measured durations (real time) shown as N.NNs. */
  const lines = () => events.flatMap((e) => (e.kind === "log" && e.event !== undefined ? [`${e.model} ${e.event}: ${e.line.replace(/\d+\.\d\ds/, "N.NNs")}`] : []));
  return { scheduler, factory, events, lines };
}

describe("lifecycle log lines from the runner", () => {
  test("start, ready, TTL unload and stop are each one line with the facts", async () => {
    const { scheduler, lines, events } = setup(testConfig({ A: { ttl: 10, cmdText: "llama-server -m a.gguf", proxy: "http://127.0.0.1:7001" } }));
    (await scheduler.acquire("A")).release();
    await scheduler.clockAdvance(10_000);
    await scheduler.settle(1000);
    expect(lines()).toEqual([
      "A starting: starting: llama-server -m a.gguf (port 7001)",
      "A ready: ready after N.NNs",
      "A unloading: unloading: idle for ttl 10s",
      "A stopped: stopped in N.NNs",
    ]);
    const ready = events.find((e) => e.kind === "log" && e.event === "ready");
    expect(ready).toMatchObject({ level: "info", fields: { durationMs: expect.any(Number) } });
  });

  test("a swap names whom the eviction makes room for", async () => {
    const { scheduler, lines } = setup(testConfig(["A", "B"], { groups: {} } as Partial<Config>));
    (await scheduler.acquire("A")).release();
    (await scheduler.acquire("B")).release();
    await scheduler.settle(1000);
    expect(lines()).toContain("A evicting: evicting to make room for B");
    expect(lines().filter((l) => l.startsWith("A stopped"))).toHaveLength(1);
  });

  test("a failed start is an error line with the exit and the last output", async () => {
    const { scheduler, factory, lines, events } = setup(testConfig(["A"]), false);
    const lease = scheduler.acquire("A").catch(() => null);
    await poll(() => factory.made.length > 0 || undefined, 1, { signal: AbortSignal.timeout(2000) });
    factory.made[0]!.failStart("Cannot start model 'A': the process exited with exit code 3 before it was healthy\nloading a.gguf\nerror: out of memory");
    await lease;
    expect(lines().slice(-2)).toEqual([
      "A start_failed: start failed after N.NNs: Cannot start model 'A': the process exited with exit code 3 before it was healthy; last output: loading a.gguf | error: out of memory",
      "A restart_scheduled: restart in N.NNs after 1 failure(s) in a row",
    ]);
    expect(events.find((e) => e.kind === "log" && e.event === "restart_scheduled")).toMatchObject({ level: "warn", fields: { failures: 1, fastFail: false } });
    expect(events.find((e) => e.kind === "log" && e.event === "start_failed")).toMatchObject({ level: "error" });
  });

  test("a crash of a ready model is an error line; its state says failed with the error and the retry time", async () => {
    const { scheduler, lines, events } = setup(testConfig(["A"]));
    (await scheduler.acquire("A")).release();
    await scheduler.clockAdvance(2_000);
    await scheduler.kill("A");
    await scheduler.settle(1000);
    expect(lines().slice(-2)).toEqual([
      "A crashed: crashed after N.NNs ready: Model process exited unexpectedly with signal SIGKILL",
      "A restart_scheduled: restart in N.NNs after 1 failure(s) in a row",
    ]);
    // The first restart delay is 1 s − 10 % jitter with this runner's random() of 0.
    expect(events.at(-1)).toMatchObject({ kind: "modelState", state: "failed", retryInMs: 900, failures: 1 });
    const [status] = await scheduler.status();
    expect(status).toMatchObject({ state: "failed", failures: 1, retryInMs: 900, lastError: "Model process exited unexpectedly with signal SIGKILL" });
    await scheduler.clockAdvance(400);
    expect((await scheduler.status())[0]!.retryInMs).toBe(500);
  });
});

describe("lifecycle line builders", () => {
  test.each([
    ["http://127.0.0.1:8080", 8080],
    ["http://localhost", 80],
    ["https://gpu-box", 443],
    ["not a url", null],
  ])("portOf(%p) is %p", (url, port) => {
    expect(portOf(url)).toBe(port);
  });

  test("a health timeout says what the last check answered", () => {
    const l = stopLine("A", "health_timeout", { ttl: 0, healthTimeoutS: 15, lastHealth: "status 503" });
    expect(l).toMatchObject({ level: "warn", event: "health_failing", line: "health check failing: not healthy within 15s (last check: status 503); stopping" });
  });

  test("each stop reason reads as a reason", () => {
    const o = { ttl: 300, healthTimeoutS: 15 };
    expect(["unload", "shutdown", "reload"].map((r) => stopLine("A", r as "unload", o).line)).toEqual([
      "unloading: unload requested",
      "unloading: modelswap is shutting down",
      "unloading: its configuration changed",
    ]);
  });

  test("a start failure without output lines has no 'last output'", () => {
    expect(startFailedLine("A", 1500, "spawn failed: no such file").line).toBe("start failed after 1.50s: spawn failed: no such file");
  });
});
