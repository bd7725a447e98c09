/**
 * Process outcomes as tables: failed starts, stale outcomes, restart backoff
 * and crashes while ready (src/scheduler/core/outcomes.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { type Case, Harness, play, rulesConfig, served } from "./core-harness.ts";

const cases: Case[] = [
  ["a process exiting while starting fails the start", [
    ["req 1 A", ["start A"]],
    ["exited A", ["reject 1 start_failed"]],
  ]],
  ["ignores stale process outcomes", [
    ["started A", []],
    ["stopped A", []],
    ["exited A", []],
    ["req 1 A", ["start A"]],
    ["stopped A", []],
    ["started A", ["grant 1 A"]],
  ]],
  ["a queued swap proceeds after the model before it fails to start", [
    ["req 1 A", ["start A"]],
    ["req 2 B", []],
    ["failed A", ["reject 1 start_failed", "start B"]],
    ["started B", ["grant 2 B"]],
  ]],
];

describe("SchedulerCore rules", () => {
  test.each(cases)("%s", (_name, steps) => {
    const h = new Harness(rulesConfig());
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });
});

describe("SchedulerCore restart policy", () => {
  /** Fails A `n` times in a row, each start made as soon as its delay allows; returns the harness. */
  function failTimes(n: number, random = () => 0.5): Harness {
    const h = new Harness(testConfig(["A"]), random);
    let id = 100;
    for (let i = 0; i < n; i++) h.setup(`now ${h.now + 60_000}`, `req ${id++} A`, "failed A");
    return h;
  }

  test("the waiters of a failed start get start_failed; the next request waits out the delay and is served", () => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A");
    expect(h.run("failed A")).toEqual(["reject 1 start_failed"]);
    h.setup("now 400");
    expect(h.run("req 2 A progress")).toEqual(["progress 2 restarting"]);
    expect(h.run("req 3 A")).toEqual([]);
    expect(h.run("tick 999")).toEqual([]);
    expect(h.run("tick 1000")).toEqual(["start A", "progress 2 starting"]);
    expect(h.run("started A")).toEqual(["grant 2 A", "grant 3 A"]);
  });

  test("the restart delay arms the timer only while someone waits for it", () => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A");
    expect(h.run("failed A", true).filter((e) => e.startsWith("timer"))).toEqual(["timer null"]);
    expect(h.run("req 2 A", true).filter((e) => e.startsWith("timer"))).toEqual(["timer 1000"]);
    expect(h.run("cancel 2", true).filter((e) => e.startsWith("timer"))).toEqual(["timer null"]);
  });

  test.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
  ])("after %i failure(s) the next start waits %i ms; requests meanwhile wait for it", (n, wait) => {
    const h = failTimes(n);
    const t = h.now;
    h.setup(`now ${t + wait - 1}`);
    expect(h.run("req 1 A", true)).toEqual(["request 1 queued", `timer ${t + wait}`, "inflight A 0/1"]);
    expect(h.run(`tick ${t + wait}`)).toEqual(["start A"]);
  });

  test("jitter moves a delay by at most 10 %", () => {
    for (const [r, wait] of [[0, 900], [1, 1100]] as const) {
      const h = failTimes(1, () => r);
      const t = h.now;
      expect(h.run("req 1 A", true).filter((e) => e.startsWith("timer"))).toEqual([`timer ${t + wait}`]);
    }
  });

  test("after 5 failures in a row requests get 503 at once with Retry-After = the time left and the last error", () => {
    const h = failTimes(5);
    const t = h.now;
    h.setup(`now ${t + 1000}`);
    const effects = h.core.handle({ type: "request", now: h.now, id: 1, model: "A", noStart: false, wantProgress: false });
    const r = effects.find((e) => e.type === "reject");
    expect(r?.type === "reject" && r.rejection).toMatchObject({ code: "backoff", status: 503, retryAfter: 15 });
    expect(r?.type === "reject" && r.rejection.message).toBe("Cannot start model 'A': it failed 5 times in a row; next try in 15 s; last error:\nboom");
  });

  test("the fast failure is never permanent: the first request after the delay tries again, then 30 s each", () => {
    const h = failTimes(5);
    const t = h.now;
    h.setup(`now ${t + 15_999}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/1"]);
    h.setup(`now ${t + 16_000}`);
    expect(h.run("req 2 A")).toEqual(["start A"]);
    expect(h.run("failed A")).toEqual(["reject 2 start_failed"]);
    h.setup(`now ${t + 16_000 + 29_999}`);
    expect(h.run("req 3 A")).toEqual(["reject 3 backoff/1"]);
    h.setup(`now ${t + 16_000 + 30_000}`);
    expect(h.run("req 4 A")).toEqual(["start A"]);
    expect(h.run("started A")).toEqual(["grant 4 A"]);
  });

  test("every failure logs when the restart is due; from the 5th on, that requests get 503 until then", () => {
    const h = failTimes(4);
    h.setup(`now ${h.now + 60_000}`, "req 1 A");
    expect(h.run("failed A", true).filter((e) => e.startsWith("restart"))).toEqual(["restart A in 16000 after 5 fast-fail"]);
    const g = new Harness(testConfig(["A"]));
    g.setup("req 1 A");
    expect(g.run("failed A", true).filter((e) => e.startsWith("restart"))).toEqual(["restart A in 1000 after 1"]);
  });

  test("an unload forgets the failures: the next request starts at once", () => {
    const h = failTimes(5);
    expect(h.run("unload A 7")).toEqual(["reply 7 []"]);
    expect(h.run("req 3 A")).toEqual(["start A"]);
  });

  test("a healthy period of 60 s resets the failure count", () => {
    const h = failTimes(3);
    h.setup(`now ${h.now + 60_000}`, "req 1 A", "started A", "release 1", `now ${h.now + 60_000 + 60_000}`, "exited A");
    const t = h.now;
    expect(h.run("req 2 A", true).filter((e) => e.startsWith("timer"))).toEqual([`timer ${t + 1000}`]);
  });

  test("a stop that leaves an unkillable process marks the model failed with that reason and counts a failure", () => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A", "started A", "release 1", "unload A 5");
    expect(h.run("stopped A unkillable", true)).toEqual(["restart A in 1000 after 1", "state A stopping>failed", "reply 5 [\"A\"]"]);
    expect(h.core.status()[0]?.state).toBe("failed");
    expect(h.run("req 2 A", true).filter((e) => e.startsWith("timer"))).toEqual(["timer 1000"]);
  });
});

describe("SchedulerCore crash while ready", () => {
  const HEALTHY = 60_000; // BACKOFF.healthyResetMs: the same constant resets the count

  test.each<Case>([
    ["a single crash: the next request waits the 1 s delay and is served (no 503)", [
      ...served(1, "A"),
      [`now ${HEALTHY}`, []],
      ["exited A", []],
      ["req 2 A", []],
      ["release 1", []],
      [`tick ${HEALTHY + 999}`, []],
      [`tick ${HEALTHY + 1000}`, ["start A"]],
      ["started A", ["grant 2 A"]],
    ]],
    ["a crash shortly after ready counts as a failure on the same counter as failed starts", [
      ["req 1 A", ["start A"]],
      ["failed A", ["reject 1 start_failed"]],
      ["now 1000", []],
      ...served(2, "A"),
      ["exited A", []],
      ["req 3 A", []],
      ["tick 2999", []],
      ["tick 3000", ["start A"]], // second failure: 2 s
    ]],
    ["a queued swap proceeds when the busy model it waits on crashes", [
      ...served(1, "A"),
      ["req 2 B", []],
      ["exited A", ["start B"]],
    ]],
    ["a crash during shutdown does not back off, it ends in shutdown", [
      ...served(1, "A"),
      ["shutdown 5 10000", []],
      ["exited A", ["reply 5 null"]],
    ]],
  ])("%s", (_name, steps) => {
    const h = new Harness(testConfig(["A", "B"]));
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });

  test("a crash moves the model to failed (never stopped), with the exit as detail", () => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A", "started A", "release 1", `now ${HEALTHY}`);
    expect(h.run("exited A", true).filter((e) => e.startsWith("state"))).toEqual(["state A ready>failed"]);
  });

  /** Starts A, lets it be ready for `readyMs`, crashes it; `n` times, each after its delay. */
  function crashTimes(h: Harness, n: number, readyMs = 1000): void {
    for (let i = 0; i < n; i++) {
      h.setup(`now ${h.now + 60_000}`, `req ${100 + i} A`, "started A", `release ${100 + i}`, `now ${h.now + 60_000 + readyMs}`, "exited A");
    }
  }

  test("repeated crashes shortly after ready reach the fast-fail limit, never a lockout", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 5);
    h.setup(`now ${h.now + 1000}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/15"]);
    h.setup(`now ${h.now + 15_000}`);
    expect(h.run("req 2 A")).toEqual(["start A"]);
  });

  test("an unload resets the count: the next crash waits 1 s, not 16 s", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 4);
    h.setup("unload A 7");
    crashTimes(h, 1);
    const t = h.now;
    expect(h.run("req 1 A", true).filter((e) => e.startsWith("timer"))).toEqual([`timer ${t + 1000}`]);
  });

  test("a crash after a healthy period forgets earlier crashes", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 4);
    crashTimes(h, 1, HEALTHY);
    const t = h.now;
    expect(h.run("req 1 A", true).filter((e) => e.startsWith("timer"))).toEqual([`timer ${t + 1000}`]);
  });
});

describe("SchedulerCore restart: always", () => {
  const always = () => testConfig({ A: { restart: "always" }, B: {} });

  test("a crashed model starts again after the delay with no request", () => {
    const h = new Harness(always());
    h.setup("req 1 A", "started A", "release 1", "now 5000");
    expect(h.run("exited A", true).filter((e) => e.startsWith("timer"))).toEqual(["timer 6000"]);
    expect(h.run("tick 6000")).toEqual(["start A"]);
    expect(h.run("started A", true).filter((e) => e.startsWith("state"))).toEqual(["state A starting>ready"]);
  });

  test("a failed eager restart is tried again after the next delay", () => {
    const h = new Harness(always());
    h.setup("req 1 A", "started A", "release 1", "exited A", "tick 1000");
    expect(h.run("failed A", true).filter((e) => e.startsWith("timer"))).toEqual(["timer 3000"]);
    expect(h.run("tick 3000")).toEqual(["start A"]);
  });

  test("on-demand (the default) waits for a request", () => {
    const h = new Harness(always());
    h.setup("req 1 B", "started B", "release 1");
    expect(h.run("exited B", true).filter((e) => e.startsWith("timer"))).toEqual([]);
    expect(h.run("tick 5000")).toEqual([]);
  });

  test("an eager restart never evicts: a model placed since keeps running and the next request decides", () => {
    const h = new Harness(always());
    h.setup("req 1 A", "started A", "release 1", "exited A", "req 2 B", "started B");
    expect(h.run("tick 1000")).toEqual([]);
  });

  test("an unload cancels the eager restart", () => {
    const h = new Harness(always());
    h.setup("req 1 A", "started A", "release 1", "exited A", "unload A 3");
    expect(h.run("tick 1000")).toEqual([]);
  });
});
