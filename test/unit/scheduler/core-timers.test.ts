/**
 * The core's timers: TTL and the health deadline, driven by `tick(now)`
 * (src/scheduler/core/timers.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { Harness, UNLOAD } from "./core-harness.ts";

describe("SchedulerCore time", () => {
  test("unloads an idle model ttl seconds after its last request ended, never during one", () => {
    const h = new Harness(testConfig({ A: { ttl: 60 } }));
    h.setup("req 1 A", "started A", "now 1000");
    expect(h.run("release 1", true)).toContain("timer 61000");
    h.setup("now 30000");
    expect(h.run("req 2 A", true)).toEqual(["grant 2 A", "timer null", "inflight A 1/0"]);
    expect(h.run("tick 200000")).toEqual([]);
    h.setup("now 200000");
    expect(h.run("release 2", true)).toContain("timer 260000");
    expect(h.run("tick 259999")).toEqual([]);
    expect(h.run("tick 260000")).toEqual([`stop A ttl ${UNLOAD}`]);
  });

  test("a request arriving while its model is being stopped by TTL starts it again once stopped", () => {
    const h = new Harness(testConfig({ A: { ttl: 10 } }));
    h.setup("req 1 A", "started A", "release 1");
    expect(h.run("tick 10000")).toEqual([`stop A ttl ${UNLOAD}`]);
    expect(h.run("req 2 A progress")).toEqual(["progress 2 stopping_others"]);
    expect(h.run("stopped A")).toEqual(["start A", "progress 2 starting"]);
    expect(h.run("started A")).toEqual(["grant 2 A"]);
  });

  test("stops a model starting longer than healthCheckTimeout and rejects its waiters", () => {
    const h = new Harness(testConfig(["A"], { healthCheckTimeout: 10 }));
    expect(h.run("req 1 A", true)).toContain("timer 10000");
    expect(h.run("tick 9999")).toEqual([]);
    expect(h.run("tick 10000")).toEqual(["reject 1 health_timeout", `stop A health_timeout ${UNLOAD}`]);
    expect(h.run("stopped A", true)).toEqual(["state A stopping>failed"]);
    h.setup("now 10500");
    // The missed deadline counted one failure: the next request waits out the 1 s delay.
    expect(h.run("req 2 A", true)).toEqual(["request 2 queued", "timer 11000", "inflight A 0/1"]);
    expect(h.run("tick 11000")).toEqual(["start A"]);
  });

  test("a request made while a timed-out model is still stopping waits out the restart delay too", () => {
    const h = new Harness(testConfig(["A"], { healthCheckTimeout: 10 }));
    h.setup("req 1 A", "tick 10000", "now 10100");
    expect(h.run("req 2 A")).toEqual([]);
    h.setup("now 10200");
    expect(h.run("stopped A", true)).toEqual(["state A stopping>failed", "timer 11000"]);
    expect(h.run("tick 11000")).toEqual(["start A"]);
    expect(h.run("started A")).toEqual(["grant 2 A"]);
  });
});
