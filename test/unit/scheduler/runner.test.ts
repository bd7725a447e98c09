/**
 * The effects runner over a MessageChannel on one thread, with fake
 * processes and a manual clock: the whole actor without a Worker.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../../src/config/types.ts";
import { SchedulerError } from "../../../src/scheduler/api.ts";
import { replay } from "../../../src/scheduler/replay.ts";
import { poll } from "../../../src/lib/async.ts";
import { testConfig } from "../../helpers/config-fixture.ts";
import { channelActor } from "./channel-actor.ts";

/** Temporary directories to remove after each test. */
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(config: Config, autoReady = true, recordFile: string | null = null) {
  const { client, made, events } = channelActor(config, { autoReady, recordFile, random: () => 0.5 });
  return { scheduler: client, factory: { made }, events };
}

/** Waits until the runner has created `n` processes. */
function spawned(factory: { made: unknown[] }, n: number): Promise<true> {
  return poll(() => factory.made.length >= n || undefined, 1, { signal: AbortSignal.timeout(2000) });
}

describe("Runner", () => {
  test("grants a request once the started process is healthy", async () => {
    const { scheduler, factory, events } = setup(testConfig({ A: { proxy: "http://127.0.0.1:7001" } }), false);
    const lease = scheduler.acquire("A");
    await spawned(factory, 1);
    expect(factory.made.map((p) => p.model)).toEqual(["A"]);
    factory.made[0]!.ready();
    const l = await lease;
    expect(l.upstream).toBe("http://127.0.0.1:7001");
    expect((await scheduler.status())[0]).toMatchObject({ model: "A", state: "ready", inFlight: 1, pid: factory.made[0]!.pid });
    l.release();
    l.release();
    expect(await scheduler.settle(1000)).toEqual({ settled: true, pending: [] });
    expect((await scheduler.status())[0]!.inFlight).toBe(0);
    expect(events.filter((e) => e.kind === "modelState").map((e) => e.kind === "modelState" && e.state)).toEqual(["starting", "ready"]);
    expect(events.some((e) => e.kind === "log" && e.line === "fake A spawned")).toBe(true);
  });

  test("unloads an idle model when the manual clock passes its TTL", async () => {
    const { scheduler, factory } = setup(testConfig({ A: { ttl: 10 } }));
    const lease = await scheduler.acquire("A");
    lease.release();
    expect(await scheduler.clockAdvance(9_999)).toBe(9_999);
    expect((await scheduler.status())[0]!.state).toBe("ready");
    expect(await scheduler.clockAdvance(1)).toBe(10_000);
    expect((await scheduler.status())[0]!.state).toBe("stopped");
    expect(factory.made[0]!.stops).toEqual([5_000]);
    expect(await scheduler.clockNow()).toBe(10_000);
  });

  test("settle reports what is pending at its timeout", async () => {
    const { scheduler, factory } = setup(testConfig(["A"]), false);
    const lease = scheduler.acquire("A");
    expect(await scheduler.settle(30)).toEqual({ settled: false, pending: ["swap to A in progress", "A is starting", "1 process operation(s) pending"] });
    factory.made[0]!.ready();
    (await lease).release();
    expect(await scheduler.settle(1000)).toEqual({ settled: true, pending: [] });
  });

  test("an aborted acquire becomes a cancel and never holds a slot", async () => {
    const { scheduler, factory } = setup(testConfig(["A"]), false);
    const ctrl = new AbortController();
    const lease = scheduler.acquire("A", { signal: ctrl.signal });
    await spawned(factory, 1);
    ctrl.abort(new Error("client gone"));
    await expect(lease).rejects.toThrow("client gone");
    factory.made[0]!.ready();
    expect(await scheduler.settle(1000)).toEqual({ settled: true, pending: [] });
    expect((await scheduler.status())[0]).toMatchObject({ state: "ready", inFlight: 0, queued: 0 });
  });

  test("a failed start rejects waiters with start_failed; a request during the delay waits and is served", async () => {
    const { scheduler, factory } = setup(testConfig(["A"]), false);
    const phases: string[] = [];
    const lease = scheduler.acquire("A", { onProgress: (p) => phases.push(p.phase) });
    await spawned(factory, 1);
    factory.made[0]!.failStart("exited with code 1");
    const err = await lease.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).rejection).toMatchObject({ code: "start_failed", status: 502 });
    expect(phases).toEqual(["starting"]);
    const again: string[] = [];
    const second = scheduler.acquire("A", { onProgress: (p) => again.push(p.message) });
    await poll(() => again.length > 0 || undefined, 1, { signal: AbortSignal.timeout(2000) });
    expect(again).toEqual(["Restarting A in 1 s"]);
    await scheduler.clockAdvance(1000);
    await spawned(factory, 2);
    factory.made[1]!.ready();
    (await second).release();
  });

  test("a model killed once is reported failed, and the next request is served after the 1 s delay", async () => {
    const { scheduler, factory, events } = setup(testConfig(["A"]));
    (await scheduler.acquire("A")).release();
    await scheduler.clockAdvance(60_000);
    await scheduler.kill("A");
    await scheduler.settle(1000);
    expect(events.filter((e) => e.kind === "modelState").at(-1)).toMatchObject({ kind: "modelState", model: "A", state: "failed", previous: "ready" });
    const lease = scheduler.acquire("A");
    await scheduler.clockAdvance(999);
    expect(factory.made.length).toBe(1);
    await scheduler.clockAdvance(1);
    (await lease).release();
    expect(factory.made.length).toBe(2);
  });

  test("a stop that leaves an unkillable process is reported loudly, the model is failed with that reason, and the unload goes on", async () => {
    const { scheduler, factory, events } = setup(testConfig(["A", "B"]));
    (await scheduler.acquire("A")).release();
    factory.made[0]!.problem = "unkillable: pid 4242 in state D";
    expect(await scheduler.unload("A")).toEqual(["A"]);
    expect(events).toContainEqual(expect.objectContaining({ kind: "log", source: "scheduler", model: "A", line: "unkillable: pid 4242 in state D", level: "error", event: "unkillable" }));
    expect((await scheduler.status()).find((s) => s.model === "A")?.state).toBe("failed");
    (await scheduler.acquire("B")).release(); // the rest goes on
  });

  test("a restart after a crash waits until the old process group is gone", async () => {
    const { scheduler, factory } = setup(testConfig(["A"]));
    (await scheduler.acquire("A")).release();
    const old = factory.made[0]!;
    old.holdStop = true; // its group takes time to empty
    await scheduler.kill("A");
    const lease = scheduler.acquire("A");
    await scheduler.clockAdvance(1000);
    await spawned(factory, 2);
    await scheduler.clockAdvance(0);
    expect(factory.made[1]!.startCalls).toBe(0);
    old.finishStop();
    (await lease).release();
    expect(factory.made[1]!.startCalls).toBe(1);
  });

  test("unload and shutdown reply once processes are gone", async () => {
    const { scheduler, factory } = setup(testConfig(["A", "B"]));
    (await scheduler.acquire("A")).release();
    expect(await scheduler.unload(null)).toEqual(["A"]);
    (await scheduler.acquire("B")).release();
    await scheduler.shutdown(0);
    expect(factory.made.map((p) => p.stops)).toEqual([[5_000], [5_000]]);
    const rej = await scheduler.acquire("A").catch((e: SchedulerError) => e.rejection);
    expect(rej).toMatchObject({ code: "shutting_down" });
  });

  test("records core inputs and effects so replay reproduces every decision", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelswap-record-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "record.jsonl");
    const { scheduler } = setup(testConfig(["A", "B"]), true, file);
    (await scheduler.acquire("A")).release();
    (await scheduler.acquire("B")).release();
    await scheduler.unload(null);
    const decisions = replay(readFileSync(file, "utf8").split("\n"), null);
    expect(decisions.length).toBeGreaterThan(5);
    expect(decisions.filter((d) => d.mismatch)).toEqual([]);
  });

  test("a forced shutdown during a graceful one kills the busy model, as a recorded core effect", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelswap-record-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "record.jsonl");
    const { scheduler, factory } = setup(testConfig(["A"]), true, file);
    const lease = await scheduler.acquire("A");
    const graceful = scheduler.shutdown(60_000);
    await scheduler.shutdown(0);
    await graceful;
    lease.release();
    expect(factory.made.map((p) => p.kills)).toEqual([1]);
    const decisions = replay(readFileSync(file, "utf8").split("\n"), null);
    expect(decisions.filter((d) => d.mismatch)).toEqual([]);
    expect(decisions.flatMap((d) => d.effects).filter((e) => e.type === "kill")).toEqual([{ type: "kill", model: "A" }]);
  });

  test("a dead port rejects everything pending with internal", async () => {
    const { scheduler } = setup(testConfig(["A"]), false);
    const lease = scheduler.acquire("A");
    const origError = console.error;
    console.error = () => {};
    try {
      scheduler.die("Scheduler worker exited");
    } finally {
      console.error = origError;
    }
    expect(((await lease.catch((e: SchedulerError) => e)) as SchedulerError).rejection.code).toBe("internal");
  });
});
