/**
 * What the core reports besides grants: progress to waiters, state changes,
 * in-flight counts, `isIdle` and `status` (src/scheduler/core.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { Harness, SWAP } from "./core-harness.ts";

describe("SchedulerCore progress, state and idleness", () => {
  test("sends progress to waiters that asked: starting, queued position, stopping others", () => {
    const h = new Harness(testConfig(["A", "B"]));
    expect(h.run("req 1 A progress")).toEqual(["start A", "progress 1 starting"]);
    expect(h.run("req 2 B progress")).toEqual(["progress 2 queued@1"]);
    expect(h.run("req 3 B progress")).toEqual(["progress 3 queued@2"]);
    expect(h.run("cancel 2")).toEqual(["progress 3 queued@1"]);
    expect(h.run("started A")).toEqual(["grant 1 A"]);
    expect(h.run("release 1")).toEqual([`stop A swap ${SWAP}`, "progress 3 stopping_others"]);
    expect(h.run("stopped A")).toEqual(["start B", "progress 3 starting"]);
  });

  test("emits every state change and in-flight count", () => {
    const h = new Harness(testConfig(["A"]));
    expect(h.run("req 1 A", true)).toEqual(["state A stopped>starting", "start A", "timer 120000", "inflight A 0/1"]);
    expect(h.run("started A", true)).toEqual(["state A starting>ready", "grant 1 A", "timer null", "inflight A 1/0", "reusable A true"]);
    expect(h.run("release 1", true)).toEqual(["request 1 released", "inflight A 0/0"]);
  });

  test("says when a new request would be granted at once (reusable), and when no longer", () => {
    const h = new Harness(testConfig(["A", "B"]));
    const reusable = (line: string) => h.run(line, true).filter((l) => l.startsWith("reusable"));
    expect(reusable("req 1 A")).toEqual([]);
    expect(reusable("started A")).toEqual(["reusable A true"]);
    // B evicts A, which is busy: A is reserved for B's swap, so a newcomer for A would queue.
    expect(reusable("req 2 B")).toEqual(["reusable A false"]);
    expect(reusable("release 1")).toEqual([]);
    expect(reusable("stopped A")).toEqual([]);
    expect(reusable("started B")).toEqual(["reusable B true"]);
    // A request queued for B (none here) or a shutdown ends it too.
    expect(reusable("shutdown 9 1000")).toEqual(["reusable B false"]);
  });

  test("isIdle lists what is in progress", () => {
    const h = new Harness(testConfig(["A", "B"]));
    expect(h.core.isIdle()).toEqual({ idle: true, pending: [] });
    h.setup("req 1 A", "req 2 B");
    expect(h.core.isIdle()).toEqual({ idle: false, pending: ["swap to A in progress", "A is starting", "1 request(s) queued"] });
    h.setup("started A");
    expect(h.core.isIdle().idle).toBe(false);
    h.setup("cancel 2");
    expect(h.core.isIdle()).toEqual({ idle: true, pending: [] });
  });

  test("status reports state, in-flight and queued counts", () => {
    const h = new Harness(testConfig(["A", "B"]));
    h.setup("req 1 A", "started A", "req 2 B");
    expect(h.core.status().map((s) => [s.model, s.state, s.inFlight, s.queued])).toEqual([
      ["A", "ready", 1, 0],
      ["B", "stopped", 0, 1],
    ]);
  });
});
