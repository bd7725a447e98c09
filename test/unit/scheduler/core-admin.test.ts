/**
 * Admin events as tables: unload, shutdown (with and without grace) and
 * reload, and the replies they owe (src/scheduler/core/admin.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { type Case, Harness, play, rulesConfig, served, UNLOAD } from "./core-harness.ts";

const cases: Case[] = [
  ["unload releases waiters, stops at once like llama-swap, and replies when stopped", [
    ...served(1, "A"),
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
    ...served(1, "A"),
    ["req 2 B", []],
    ["shutdown 5", ["reject 2 shutting_down", `stop A shutdown ${UNLOAD}`, "kill A"]],
    ["req 3 A", ["reject 3 shutting_down"]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown with a grace period waits for in-flight requests", [
    ...served(1, "A"),
    ["req 2 A", ["grant 2 A"]],
    ["shutdown 5 10000", []],
    ["release 1", []],
    ["release 2", [`stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown grace ends at its deadline", [
    ...served(1, "A"),
    ["shutdown 5 10000", []],
    ["tick 9999", []],
    ["tick 10000", [`stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown (llama-swap's order): no swap starts; what was queued for a ready model is served; other waiters get 503 at once", [
    ...served(1, "A"),
    ["req 2 B", []], // queued: evicting A would cut request 1
    ["req 3 A", []], // queued: A is reserved for the swap to B
    ["shutdown 5 10000", ["grant 3 A", "reject 2 shutting_down"]],
    ["release 1", []],
    ["release 3", [`stop A shutdown ${UNLOAD}`]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["shutdown while starting rejects the waiters and stops the process", [
    ["req 1 A", ["start A"]],
    ["shutdown 5", ["reject 1 shutting_down", `stop A shutdown ${UNLOAD}`, "kill A"]],
    ["stopped A", ["reply 5 null"]],
  ]],
  ["a forced shutdown (grace 0, the second signal) kills what a graceful one is still stopping", [
    ...served(1, "A"),
    ["shutdown 5 10000", []],
    ["release 1", [`stop A shutdown ${UNLOAD}`]],
    ["shutdown 6", ["kill A"]],
    ["stopped A", ["reply 5 null", "reply 6 null"]],
  ]],
];

describe("SchedulerCore rules", () => {
  test.each(cases)("%s", (_name, steps) => {
    const h = new Harness(rulesConfig());
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
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
  test("keeps a model running when only its scheduling settings changed; a changed model's failures are forgotten", () => {
    const h = new Harness(testConfig({ A: {}, B: {} }));
    h.setup("req 1 A", "started A", "req 2 B", "release 1", "stopped A", "failed B");
    const next = testConfig({ A: { ttl: 30, concurrencyLimit: 3 }, B: { ttl: 5 } });
    expect(h.effects({ type: "reload", now: h.now, config: next, replyId: 4 }, true)).toEqual(["state B failed>stopped", "reply 4 null"]);
    expect(h.run("req 3 B")).toEqual(["start B"]);
  });

  test("an unchanged model keeps its failure count across a reload", () => {
    const h = new Harness(testConfig({ A: {} }));
    h.setup("req 1 A", "failed A");
    expect(h.effects({ type: "reload", now: h.now, config: testConfig({ A: {} }), replyId: 4 })).toEqual(["reply 4 null"]);
    expect(h.run("req 2 A", true)).toEqual(["request 2 queued", "timer 1000", "inflight A 0/1"]);
  });
});
