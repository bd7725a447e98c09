/**
 * Watchdog and residency rules as tables: maxSwapWait, the LRU count
 * (maxLoaded), memory fit, OOM retry, the busy watchdog and keep_alive
 * (src/scheduler/core/{swaps,timers,outcomes}.ts, policies/{lru,memory,oom}.ts).
 */
import { describe, expect, test } from "bun:test";
import type { Config, GroupConfig } from "../../../src/config/types.ts";
import { testConfig } from "../../helpers/config-fixture.ts";
import { type Case, Harness, play, served, type Step, SWAP, UNLOAD } from "./core-harness.ts";

const GiB = 2 ** 30;
const together = (ids: string[]): Record<string, GroupConfig> => ({ all: { id: "all", members: ids, swap: false, exclusive: false, persistent: false } });

/** Four models that may run together (one group, no swap, not exclusive), with extra config. */
function four(over: Partial<Config> = {}, vram: Record<string, number> = {}): Config {
  const ids = ["A", "B", "C", "D"];
  return testConfig(Object.fromEntries(ids.map((id) => [id, { resources: { vram: (vram[id] ?? 0) * GiB, ram: 0 } }])), { groups: together(ids), ...over });
}

function runCases(config: () => Config, cases: Case[]): void {
  test.each(cases)("%s", (_name, steps) => {
    const h = new Harness(config());
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });
}

describe("maxSwapWait: a swap waits for a busy model at most this long", () => {
  runCases(() => testConfig(["A", "B"], { maxSwapWait: 30 }), [
    ["one stuck request never takes a second model out of service", [
      ...served(1, "A"),
      ["now 1000", []],
      ["req 2 B", []], // would evict the busy A: queued, A reserved
      ["req 3 A", []], // reserved: queued behind the swap
      ["tick 30999", []],
      ["tick 31000", ["reject 2 swap_timeout/30", "grant 3 A"]], // the swap gives up; A keeps serving
      ["req 4 A", ["grant 4 A"]],
    ]],
    ["a swap whose busy model becomes idle in time proceeds", [
      ...served(1, "A"),
      ["req 2 B", []],
      ["now 29000", []],
      ["release 1", [`stop A swap ${SWAP}`]],
      ["tick 40000", []],
      ["stopped A", ["start B"]],
      ["started B", ["grant 2 B"]],
    ]],
    ["only the wait behind a busy model is bounded, not a slow start", [
      ["req 1 A", ["start A"]],
      ["req 2 A", []],
      ["tick 60000", []],
      ["started A", ["grant 1 A", "grant 2 A"]],
    ]],
  ]);

  test("0 waits without limit (llama-swap's behaviour)", () => {
    const h = new Harness(testConfig(["A", "B"]));
    h.setup("req 1 A", "started A", "req 2 B");
    expect(h.run("tick 100000000")).toEqual([]);
    expect(h.run("release 1")).toEqual([`stop A swap ${SWAP}`]);
  });

  test("the timer is armed for the wait's end", () => {
    const h = new Harness(testConfig(["A", "B"], { maxSwapWait: 5 }));
    h.setup("req 1 A", "started A", "now 100");
    expect(h.run("req 2 B", true)).toContain("timer 5100");
  });
});

describe("maxLoaded: the LRU count limit", () => {
  runCases(() => four({ maxLoaded: 2 }), [
    ["a third model evicts the least recently used idle one", [
      ...served(1, "A"),
      ...served(2, "B"),
      ["now 10", []],
      ["release 2", []],
      ["now 20", []],
      ["release 1", []], // A used last: B is the LRU one
      ["req 3 C", [`stop B swap ${SWAP}`]],
      ["stopped B", ["start C"]],
      ["started C", ["grant 3 C"]],
    ]],
    ["a starting model counts: a burst never overshoots", [
      ["req 1 A", ["start A"]],
      ["req 2 B", ["start B"]],
      ["req 3 C", []], // A and B are starting: nothing idle to evict, C waits
      ["started A", ["grant 1 A"]],
      ["release 1", [`stop A swap ${SWAP}`]],
      ["stopped A", ["start C"]],
    ]],
    ["a busy model is never evicted: the start waits until it is idle", [
      ...served(1, "A"),
      ...served(2, "B"),
      ["req 3 C", []],
      ["release 2", [`stop B swap ${SWAP}`]],
      ["stopped B", ["start C"]],
    ]],
  ]);
});

describe("resources: memory fit", () => {
  const config = () => four({ resources: { vram: 24 * GiB, ram: null } }, { A: 10, B: 10, C: 12, D: 30 });
  runCases(config, [
    ["starts beside what fits, evicts the LRU idle model for what does not", [
      ...served(1, "A"),
      ...served(2, "B"),
      ["now 5", []],
      ["release 1", []],
      ["now 6", []],
      ["release 2", []],
      ["req 3 C", [`stop A swap ${SWAP}`]],
      ["stopped A", ["start C"]],
    ]],
    ["a model that can never fit is refused at once", [
      ["req 1 D", ["reject 1 cannot_fit"]],
    ]],
  ]);

  test("the refusal names the numbers", () => {
    const h = new Harness(config());
    const effects = h.core.handle({ type: "request", now: 0, id: 1, model: "D", noStart: false, wantProgress: false });
    expect(effects[0]).toMatchObject({ type: "reject", rejection: { status: 503, message: "Cannot start model D as it needs 30 GiB of vram and resources.vram is 24 GiB" } });
  });
});

describe("out-of-memory start failure: evict one more idle model and retry once", () => {
  runCases(() => four(), [
    ["retries once after evicting the LRU idle model, without counting a failure", [
      ...served(1, "A", true),
      ["req 2 B", ["start B"]],
      ["failed B oom", [`stop A oom_retry ${SWAP}`]],
      ["stopped A", ["start B"]],
      ["started B", ["grant 2 B"]],
    ]],
    ["a second out-of-memory failure stands", [
      ...served(1, "A", true),
      ["req 2 B", ["start B"]],
      ["failed B oom", [`stop A oom_retry ${SWAP}`]],
      ["stopped A", ["start B"]],
      ["failed B oom", ["reject 2 start_failed"]],
    ]],
    ["no idle model to give up: the failure stands", [
      ...served(1, "A"),
      ["req 2 B", ["start B"]],
      ["failed B oom", ["reject 2 start_failed"]],
    ]],
    ["another failure is not retried", [
      ...served(1, "A", true),
      ["req 2 B", ["start B"]],
      ["failed B", ["reject 2 start_failed"]],
    ]],
  ]);
});

describe("busy watchdog: judged by progress, not wall clock", () => {
  const config = () => testConfig({ A: { watchdog: { stallTimeout: 0, busyTimeout: 10 } } });
  runCases(config, [
    ["a model busy with no byte to any client for busyTimeout is stopped and restarted through the restart policy", [
      ...served(1, "A"),
      ["tick 9999", []],
      ["tick 10000", [`stop A watchdog ${UNLOAD}`]],
      ["stopped A", []],
      ["req 2 A", []], // one failure: the request waits out the restart delay (1 s)
      ["tick 11000", ["start A"]],
    ]],
    ["a long generation that keeps sending is never cut", [
      ...served(1, "A"),
      ["now 8000", []],
      ["activity A", []],
      ["tick 17999", []],
      ["now 17000", []],
      ["activity A", []],
      ["tick 26999", []],
      ["release 1", []],
      ["tick 100000", []],
    ]],
  ]);

  test("with restart: always it starts again after the delay, unasked", () => {
    const h = new Harness(testConfig({ A: { watchdog: { stallTimeout: 0, busyTimeout: 10 }, restart: "always" } }));
    h.setup("req 1 A", "started A", "tick 10000", "stopped A");
    expect(h.run("tick 11000")).toEqual(["start A"]);
  });

  test("off by default", () => {
    const h = new Harness(testConfig(["A"]));
    h.setup("req 1 A", "started A");
    expect(h.run("tick 1000000000")).toEqual([]);
  });
});

describe("keep_alive: a request's own ttl", () => {
  runCases(() => testConfig({ A: { ttl: 60 } }), [
    ["keep_alive 0 unloads once the request ends", [
      ["req 1 A keep=0", ["start A"]],
      ["started A", ["grant 1 A"]],
      ["now 500", []],
      ["release 1", []],
      ["tick 500", [`stop A ttl ${UNLOAD}`]],
    ]],
    ["keep_alive -1 keeps it loaded past its ttl", [
      ["req 1 A keep=-1", ["start A"]],
      ["started A", ["grant 1 A"]],
      ["release 1", []],
      ["tick 100000000", []],
    ]],
    ["a positive keep_alive replaces the ttl; a later request without one restores it", [
      ["req 1 A keep=5000", ["start A"]],
      ["started A", ["grant 1 A"]],
      ["release 1", []],
      ["tick 4999", []],
      ["req 2 A", ["grant 2 A"]],
      ["release 2", []],
      ["tick 60000", []],
      ["tick 64999", [`stop A ttl ${UNLOAD}`]],
    ]],
  ]);
});

describe("replicas: one model, several processes", () => {
  /** m has replicas m@1 and m@2 (as the loader writes them); x is another model. */
  function replicated(over: Partial<Config> = {}): Config {
    const c = testConfig({ m: { replicas: ["m@1", "m@2"] }, "m@1": { replicaOf: "m", unlisted: true }, "m@2": { replicaOf: "m", unlisted: true }, x: {} }, over);
    return c;
  }
  /** A burst of two requests starts both replicas, each serving one. */
  const BOTH_REPLICAS: Step[] = [
    ["req 1 m", ["start m@1"]],
    ["req 2 m", ["start m@2"]],
    ["started m@1", ["grant 1 m@1"]],
    ["started m@2", ["grant 2 m@2"]],
  ];
  runCases(() => replicated(), [
    ["a burst starts one replica per request, side by side (replicas never evict each other)", [
      ["req 1 m", ["start m@1"]],
      ["req 2 m", ["start m@2"]],
      ["started m@2", ["grant 2 m@2"]],
      ["started m@1", ["grant 1 m@1"]],
    ]],
    ["requests go to the replica with the fewest in flight", [
      ...BOTH_REPLICAS,
      ["release 2", []],
      ["req 3 m", ["grant 3 m@2"]],
      ["req 4 m", ["grant 4 m@1"]],
      ["release 3", []],
      ["req 5 m", ["grant 5 m@2"]],
    ]],
    ["a replica that crashed is restarted on its own; the other keeps serving", [
      ...BOTH_REPLICAS,
      ["now 100000", []],
      ["exited m@2", []],
      ["release 2", []], // its client saw the upstream go
      ["req 3 m", ["grant 3 m@1"]], // m@2 waits out its 1 s restart delay: m@1 serves
      ["now 101000", []],
      ["req 4 m", ["start m@2"]], // delay over, fewest in flight: m@2 (0) over m@1 (2)
      ["release 1", []],
      ["req 5 m", ["grant 5 m@1"]],
    ]],
    ["another model evicts every replica (the default group is exclusive)", [
      ...BOTH_REPLICAS,
      ["release 1", []],
      ["release 2", []],
      ["req 3 x", [`stop m@1 swap ${SWAP}`, `stop m@2 swap ${SWAP}`]],
    ]],
  ]);

  test("status lists each replica, not the model", () => {
    const h = new Harness(replicated());
    expect(h.core.status().map((s) => s.model)).toEqual(["m@1", "m@2", "x"]);
  });

  test("unloading the model unloads every replica", () => {
    const h = new Harness(replicated());
    h.setup("req 1 m", "req 2 m", "started m@1", "started m@2", "release 1", "release 2");
    expect(h.run("unload m 7")).toEqual([`stop m@1 unload ${UNLOAD}`, `stop m@2 unload ${UNLOAD}`]);
  });
});

describe("selectors decided in the core", () => {
  const together4 = () => four();
  runCases(together4, [
    ["warm: the first ready target, else the first starting one, else the first", [
      ["sel 1 warm A,B", ["start A"]],
      ["sel 2 warm B,A", []], // A is starting: join it rather than start B
      ["started A", ["grant 1 A", "grant 2 A"]],
      ["sel 3 warm B,A", ["grant 3 A"]],
    ]],
    ["spillover: a burst fills the first target to its reservation, then starts the next once", [
      ["sel 1 spillover:2 A,B", ["start A"]],
      ["sel 2 spillover:2 A,B", []], // A is starting with 1 waiting: still below 2
      ["sel 3 spillover:2 A,B", ["start B"]], // A holds 2: spill to B
      ["sel 4 spillover:2 A,B", []], // B starting with 1: below 2, joins B
      ["started A", ["grant 1 A", "grant 2 A"]],
      ["started B", ["grant 3 B", "grant 4 B"]],
    ]],
    ["spillover to a peer once the local target is full", [
      ["sel 1 spillover:1 A,peer:p/big", ["start A"]],
      ["sel 2 spillover:1 A,peer:p/big", ["route 2 p/big"]],
      ["started A", ["grant 1 A"]],
    ]],
  ]);
});

describe("choices while shutting down", () => {
  test("a request for a replicated model or a selector is refused as shutting down, not as unknown", () => {
    const h = new Harness(testConfig({ m: { replicas: ["m@1"] }, "m@1": { replicaOf: "m" }, x: {} }));
    h.setup("shutdown 1");
    expect(h.run("req 2 m")).toEqual(["reject 2 shutting_down"]);
    expect(h.run("sel 3 warm x,m")).toEqual(["reject 3 shutting_down"]);
  });
});
