/**
 * Process outcomes as tables: failed starts, stale outcomes, restart backoff
 * and crashes while ready (src/scheduler/core/outcomes.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { type Case, Harness, play, rulesConfig } from "./core-harness.ts";

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

describe("SchedulerCore restart backoff", () => {
  /** Fails A `n` times, each as soon as its backoff allows; returns the harness. */
  function failTimes(n: number, random = () => 0): Harness {
    const h = new Harness(testConfig(["A"]), random);
    let id = 100;
    for (let i = 0; i < n; i++) {
      h.setup(`now ${h.now + 60_000}`, `req ${id++} A`, "failed A");
    }
    return h;
  }

  test("rejects waiters with the start failure and backs off min(1s·2^(n-1), 60s) minus jitter", () => {
    const h = new Harness(testConfig(["A"]), () => 0.5);
    h.setup("req 1 A");
    expect(h.run("failed A")).toEqual(["reject 1 start_failed"]);
    h.setup("now 899");
    expect(h.run("req 2 A")).toEqual(["reject 2 backoff/1"]);
    h.setup("now 900");
    expect(h.run("req 3 A")).toEqual(["start A"]);
    expect(h.run("failed A spawn")).toEqual(["reject 3 start_failed"]);
    h.setup("now 2699");
    expect(h.run("req 4 A")).toEqual(["reject 4 backoff/1"]);
    h.setup("now 2700"); // 900 + 2000·0.9
    expect(h.run("req 5 A")).toEqual(["start A"]);
  });

  test.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
  ])("after %i failure(s) the next start waits %i ms (no jitter)", (n, wait) => {
    const h = failTimes(n);
    const t = h.now;
    h.setup(`now ${t + wait - 1}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/1"]);
    h.setup(`now ${t + wait}`);
    expect(h.run("req 2 A")).toEqual(["start A"]);
  });

  test("gives up after 5 consecutive failures until an unload resets it", () => {
    const h = failTimes(5);
    h.setup(`now ${h.now + 1000}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/59"]);
    h.setup(`now ${h.now + 120_000}`);
    expect(h.run("req 2 A")).toEqual(["reject 2 backoff/60"]);
    expect(h.run("unload A 7")).toEqual(["reply 7 []"]);
    expect(h.run("req 3 A")).toEqual(["start A"]);
  });

  test("a healthy period of 60 s resets the failure count", () => {
    const h = failTimes(3);
    h.setup(`now ${h.now + 60_000}`, "req 1 A", "started A", "release 1", `now ${h.now + 60_000 + 60_000}`, "exited A");
    h.setup("req 2 A", "failed A");
    const t = h.now;
    h.setup(`now ${t + 1000}`);
    expect(h.run("req 3 A")).toEqual(["start A"]);
  });
});

describe("SchedulerCore crash while ready", () => {
  const HEALTHY = 60_000; // BACKOFF.healthyResetMs: the same constant resets the count

  test.each<Case>([
    ["a crash after a healthy period (60 s ready) leaves it stopped; the next request starts it at once", [
      ["req 1 A", ["start A"]],
      ["started A", ["grant 1 A"]],
      [`now ${HEALTHY}`, []],
      ["exited A", []],
      ["req 2 A", ["start A"]],
      ["release 1", []],
      ["started A", ["grant 2 A"]],
    ]],
    ["a crash shortly after ready counts as a failure: 503 backoff until it passes", [
      ["req 1 A", ["start A"]],
      ["started A", ["grant 1 A"]],
      [`now ${HEALTHY - 1}`, []],
      ["exited A", []],
      ["req 2 A", ["reject 2 backoff/1"]],
      ["release 1", []],
      [`now ${HEALTHY - 1 + 999}`, []],
      ["req 3 A", ["reject 3 backoff/1"]],
      [`now ${HEALTHY - 1 + 1000}`, []],
      ["req 4 A", ["start A"]],
      ["started A", ["grant 4 A"]],
    ]],
    ["crashes and failed starts share one backoff counter", [
      ["req 1 A", ["start A"]],
      ["failed A", ["reject 1 start_failed"]],
      ["now 1000", []],
      ["req 2 A", ["start A"]],
      ["started A", ["grant 2 A"]],
      ["exited A", []],
      ["now 2999", []],
      ["req 3 A", ["reject 3 backoff/1"]],
      ["now 3000", []], // second failure: 2 s
      ["req 4 A", ["start A"]],
    ]],
    ["a queued swap proceeds when the busy model it waits on crashes", [
      ["req 1 A", ["start A"]],
      ["started A", ["grant 1 A"]],
      ["req 2 B", []],
      ["exited A", ["start B"]],
      ["req 3 A", ["reject 3 backoff/1"]],
    ]],
    ["a crash during shutdown does not back off, it ends in shutdown", [
      ["req 1 A", ["start A"]],
      ["started A", ["grant 1 A"]],
      ["shutdown 5 10000", []],
      ["exited A", ["reply 5 null"]],
    ]],
  ])("%s", (_name, steps) => {
    const h = new Harness(testConfig(["A", "B"]));
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });

  test.each([
    ["within the healthy period", HEALTHY - 1, "state A ready>failed"],
    ["after the healthy period", HEALTHY, "state A ready>stopped"],
  ])("a crash %s moves the model to the state its next request sees", (_name, readyMs, state) => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A", "started A", "release 1", `now ${readyMs}`);
    expect(h.run("exited A", true).filter((e) => e.startsWith("state"))).toEqual([state]);
  });

  /** Starts A, lets it be ready for `readyMs`, crashes it, and waits out the backoff; `n` times. */
  function crashTimes(h: Harness, n: number, readyMs = 1000): void {
    for (let i = 0; i < n; i++) {
      h.setup(`now ${h.now + 60_000}`, `req ${100 + i} A`, "started A", `release ${100 + i}`, `now ${h.now + 60_000 + readyMs}`, "exited A");
    }
  }

  test("repeated crashes shortly after ready reach the give-up limit: 503 until unload", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 5);
    h.setup(`now ${h.now + 1000}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/59"]);
    h.setup(`now ${h.now + 120_000}`);
    expect(h.run("req 2 A")).toEqual(["reject 2 backoff/60"]);
    expect(h.run("unload A 7")).toEqual(["reply 7 []"]);
    expect(h.run("req 3 A")).toEqual(["start A"]);
  });

  test("after giving up, a reload resets the count too", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 5);
    expect(h.effects({ type: "reload", now: h.now, config: testConfig(["A"]), replyId: 4 })).toEqual(["reply 4 null"]);
    expect(h.run("req 1 A")).toEqual(["start A"]);
  });

  test("an unload resets the count: the next crash waits 1 s, not 16 s", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 4);
    h.setup("unload A 7");
    crashTimes(h, 1);
    const t = h.now;
    h.setup(`now ${t + 999}`);
    expect(h.run("req 1 A")).toEqual(["reject 1 backoff/1"]);
    h.setup(`now ${t + 1000}`);
    expect(h.run("req 2 A")).toEqual(["start A"]);
  });

  test("a crash after a healthy period forgets earlier crashes", () => {
    const h = new Harness(testConfig(["A"]));
    crashTimes(h, 4);
    crashTimes(h, 1, HEALTHY);
    expect(h.run("req 1 A")).toEqual(["start A"]);
    h.setup("started A", "release 1", `now ${h.now + 10}`, "exited A");
    const t = h.now;
    h.setup(`now ${t + 999}`);
    expect(h.run("req 2 A")).toEqual(["reject 2 backoff/1"]);
    h.setup(`now ${t + 1000}`);
    expect(h.run("req 3 A")).toEqual(["start A"]);
  });
});
