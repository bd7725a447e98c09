/**
 * Swaps as tables: collating requests, evicting, never cutting a running
 * generation, queue order, and the eviction policies (src/scheduler/core/swaps.ts).
 */
import { describe, expect, test } from "bun:test";
import { testConfig } from "../../helpers/config-fixture.ts";
import { type Case, Harness, play, rulesConfig, served, SWAP } from "./core-harness.ts";

const cases: Case[] = [
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
    ...served(1, "A", true),
    ["req 2 B", [`stop A swap ${SWAP}`]],
    ["req 3 A", []],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B"]],
  ]],
  ["never cuts a running generation: the swap waits, and reserves the busy model", [
    ...served(1, "A"),
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
    ...served(1, "A"),
    ["req 2 B", []],
    ["req 3 A", []],
    ["cancel 2", ["grant 3 A"]],
    ["release 1", []],
  ]],
  ["orders the queue by priority, then arrival", [
    ...served(1, "A"),
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
];

describe("SchedulerCore rules", () => {
  test.each(cases)("%s", (_name, steps) => {
    const h = new Harness(rulesConfig());
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
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
