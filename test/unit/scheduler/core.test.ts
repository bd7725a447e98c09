/**
 * The scheduler core's rules as tables: each line is an event, each list the
 * effects it must produce (grant, reject, start, stop, reply, progress).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { Harness, play, type Step } from "./core-harness.ts";

const SWAP = 120_000; // healthCheckTimeout 120 s → grace for evictions
const UNLOAD = 5_000; // unloadTimeout 5 s

type Case = [name: string, steps: Step[]];

const cases: Case[] = [
  ["grants a ready model at once", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 A", ["grant 2 A"]],
  ]],
  ["starts exactly one process for concurrent requests to a cold model", [
    ["req 1 A", ["start A"]],
    ["req 2 A", []],
    ["req 3 A", []],
    ["started A", ["grant 1 A", "grant 2 A", "grant 3 A"]],
  ]],
  ["collates A B A B into A A B B", [
    ["req 1 A", ["start A"]],
    ["req 2 B", []],
    ["req 3 A", []],
    ["req 4 B", []],
    ["started A", ["grant 1 A", "grant 3 A"]],
    ["release 1", []],
    ["release 3", [`stop A swap ${SWAP}`]],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B", "grant 4 B"]],
  ]],
  ["evicts an idle model at once (one model at a time by default)", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["release 1", []],
    ["req 2 B", [`stop A swap ${SWAP}`]],
    ["req 3 A", []],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B"]],
  ]],
  ["never cuts a running generation: the swap waits, and reserves the busy model", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["req 3 A", []],
    ["release 1", [`stop A swap ${SWAP}`]],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B"]],
    ["release 2", [`stop B swap ${SWAP}`]],
    ["stopped B", ["start A"]],
    ["started A", ["grant 3 A"]],
  ]],
  ["a cancelled swap request unreserves the busy model", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["req 3 A", []],
    ["cancel 2", ["grant 3 A"]],
    ["release 1", []],
  ]],
  ["a queued request whose client left does not start its model", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["cancel 2", []],
    ["release 1", []],
  ]],
  ["the last waiter leaving a swap that is still stopping others cancels the start", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["release 1", []],
    ["req 2 B", [`stop A swap ${SWAP}`]],
    ["cancel 2", []],
    ["stopped A", []],
  ]],
  ["a load already started may finish when its waiter leaves", [
    ["req 1 A", ["start A"]],
    ["cancel 1", []],
    ["started A", []],
    ["req 2 A", ["grant 2 A"]],
  ]],
  ["orders the queue by priority, then arrival", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["req 3 C", []],
    ["req 4 B", []],
    ["release 1", [`stop A swap ${SWAP}`]],
    ["stopped A", ["start C"]],
    ["started C", ["grant 3 C"]],
    ["release 3", [`stop C swap ${SWAP}`]],
    ["stopped C", ["start B"]],
    ["started B", ["grant 2 B", "grant 4 B"]],
  ]],
  ["counts queued plus in-flight against concurrencyLimit", [
    ["req 1 L", ["start L"]],
    ["req 2 L", []],
    ["req 3 L", ["reject 3 too_many_requests/1"]],
    ["started L", ["grant 1 L", "grant 2 L"]],
    ["req 4 L", ["reject 4 too_many_requests/1"]],
    ["release 1", []],
    ["req 5 L", ["grant 5 L"]],
  ]],
  ["counts in flight exactly: unknown and repeated releases are ignored, cancel of a grant releases", [
    ["release 99", []],
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["release 1", [`stop A swap ${SWAP}`]],
    ["release 1", []],
    ["cancel 1", []],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B"]],
    ["req 3 A", []],
    ["cancel 2", [`stop B swap ${SWAP}`]],
  ]],
  ["rejects unknown models and noStart requests for models not running", [
    ["req 1 nope", ["reject 1 model_not_found"]],
    ["req 2 A nostart", ["reject 2 not_running"]],
    ["req 3 A", ["start A"]],
    ["started A", ["grant 3 A"]],
    ["req 4 A nostart", ["grant 4 A"]],
  ]],
  ["unload releases waiters, stops at once like llama-swap, and replies when stopped", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 A", ["grant 2 A"]],
    ["req 3 B", []],
    ["unload B 7", ["reject 3 unloaded", "reply 7 []"]],
    ["unload A 8", [`stop A unload ${UNLOAD}`]],
    ["stopped A", ['reply 8 ["A"]']],
    ["release 1", []],
    ["unload * 9", ["reply 9 []"]],
  ]],
  ["unload of a starting model rejects its waiters", [
    ["req 1 A", ["start A"]],
    ["unload * 7", ["reject 1 unloaded", `stop A unload ${UNLOAD}`]],
    ["started A", []],
    ["stopped A", ['reply 7 ["A"]']],
  ]],
  ["shutdown rejects every waiter, stops everything and replies when all are gone", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 B", []],
    ["shutdown 5", ["reject 2 shutting_down", `stop A shutdown ${UNLOAD}`]],
    ["req 3 A", ["reject 3 shutting_down"]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown with a grace period waits for in-flight requests", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["req 2 A", ["grant 2 A"]],
    ["shutdown 5 10000", []],
    ["release 1", []],
    ["release 2", [`stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown grace ends at its deadline", [
    ["req 1 A", ["start A"]],
    ["started A", ["grant 1 A"]],
    ["shutdown 5 10000", []],
    ["tick 9999", []],
    ["tick 10000", [`stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["a process exiting while starting fails the start", [
    ["req 1 A", ["start A"]],
    ["exited A", ["reject 1 start_failed"]],
  ]],
  ["shutdown while starting rejects the waiters and stops the process", [
    ["req 1 A", ["start A"]],
    ["shutdown 5", ["reject 1 shutting_down", `stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
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
    const h = new Harness(testConfig({ A: {}, B: {}, C: {}, L: { concurrencyLimit: 2 } }, { priority: { C: 10 } }));
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });
});

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
    expect(h.run("req 2 A")).toEqual(["reject 2 backoff/1"]);
    h.setup("now 11000");
    expect(h.run("req 3 A")).toEqual(["start A"]);
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
    expect(h.run("started A", true)).toEqual(["state A starting>ready", "grant 1 A", "timer null", "inflight A 1/0"]);
    expect(h.run("release 1", true)).toEqual(["request 1 released", "inflight A 0/0"]);
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

describe("SchedulerCore reload", () => {
  test("stops models whose config changed or that were removed, and replies when stopped", () => {
    const h = new Harness(testConfig({ A: {}, B: {} }, { groups: { g: { id: "g", swap: false, exclusive: false, persistent: false, members: ["A", "B"] } } }));
    h.setup("req 1 A", "started A", "req 2 B", "started B");
    const next = testConfig({ A: { cmd: ["other"] }, C: {} }, { groups: { g: { id: "g", swap: false, exclusive: false, persistent: false, members: ["A", "B", "C"] } } });
    expect(h.effects({ type: "reload", now: h.now, config: next, replyId: 4 })).toEqual([`stop A reload ${UNLOAD}`, `stop B reload ${UNLOAD}`]);
    expect(h.run("stopped A")).toEqual([]);
    expect(h.run("stopped B")).toEqual(["reply 4 null"]);
    expect(h.run("req 3 B")).toEqual(["reject 3 model_not_found"]);
    expect(h.run("req 4 C")).toEqual(["start C"]);
  });
});

describe("SchedulerCore reload, settings only", () => {
  test("keeps a model running when only its scheduling settings changed, and resets backoff", () => {
    const h = new Harness(testConfig({ A: {}, B: {} }));
    h.setup("req 1 A", "started A", "req 2 B", "release 1", "stopped A", "failed B");
    const next = testConfig({ A: { ttl: 30, concurrencyLimit: 3 }, B: {} });
    expect(h.effects({ type: "reload", now: h.now, config: next, replyId: 4 }, true)).toEqual(["state B failed>stopped", "reply 4 null"]);
    expect(h.run("req 3 B")).toEqual(["start B"]);
  });
});

describe("SchedulerCore with a matrix", () => {
  test("starts a model beside the running ones its set allows, and evicts the rest", () => {
    const h = new Harness(testConfig(["a", "b", "c"], { router: "matrix", matrix: { vars: {}, evictCosts: {}, sets: [{ name: "ab", expr: "a & b" }] } }));
    h.setup("req 1 a", "started a", "release 1");
    expect(h.run("req 2 b")).toEqual(["start b"]);
    expect(h.run("started b")).toEqual(["grant 2 b"]);
    h.setup("release 2");
    expect(h.run("req 3 c")).toEqual([`stop a swap ${SWAP}`, `stop b swap ${SWAP}`]);
  });
});

describe("SchedulerCore with groups", () => {
  const g = (id: string, members: string[], over: { swap?: boolean; exclusive?: boolean; persistent?: boolean } = {}) => ({
    id, swap: over.swap ?? true, exclusive: over.exclusive ?? true, persistent: over.persistent ?? false, members,
  });

  test("runs members of a non-swapping, non-exclusive group together, in parallel swaps", () => {
    const h = new Harness(testConfig(["A", "B", "X"], { groups: { g: g("g", ["A", "B"], { swap: false, exclusive: false }) } }));
    expect(h.run("req 1 A")).toEqual(["start A"]);
    expect(h.run("req 2 B")).toEqual(["start B"]);
    expect(h.run("started B")).toEqual(["grant 2 B"]);
    expect(h.run("req 3 X")).toEqual([]);
    expect(h.run("started A")).toEqual(["grant 1 A"]);
    h.setup("release 1");
    expect(h.run("release 2")).toEqual([`stop A swap ${SWAP}`, `stop B swap ${SWAP}`]);
  });

  test("never evicts a persistent group", () => {
    const h = new Harness(testConfig(["P", "X"], { groups: { p: g("p", ["P"], { swap: false, exclusive: false, persistent: true }) } }));
    h.setup("req 1 P", "started P", "release 1");
    expect(h.run("req 2 X")).toEqual(["start X"]);
  });
});
