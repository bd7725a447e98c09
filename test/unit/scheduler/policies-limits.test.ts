/** The limits on top of the router: LRU count (maxLoaded) and memory fit (resources). */
import { describe, expect, test } from "bun:test";
import type { Config, GroupConfig } from "../../../src/config/types.ts";
import { evictionFor, evictionOrder, type Usage } from "../../../src/scheduler/policies/index.ts";
import { testConfig } from "../../helpers/config-fixture.ts";

const GiB = 2 ** 30;
const group = (id: string, members: string[], persistent = false): GroupConfig => ({ id, members, swap: false, exclusive: false, persistent });

/** Four co-resident models (a group that neither swaps nor is exclusive) and a persistent one. */
function config(over: Partial<Config>, vram: Record<string, number> = {}): Config {
  const ids = ["a", "b", "c", "d", "p"];
  const models = Object.fromEntries(ids.map((id) => [id, { resources: { vram: (vram[id] ?? 0) * GiB, ram: 0 } }]));
  return testConfig(models, { groups: { all: group("all", ["a", "b", "c", "d"]), keep: group("keep", ["p"], true) }, ...over });
}

/** Usage from a compact table: `a:idle:5` (kind, last used). */
function usage(spec: string): (m: string) => Usage {
  const table = new Map<string, Usage>();
  for (const item of spec.split(/\s+/).filter(Boolean)) {
    const [id, kind, last] = item.split(":") as [string, Usage["kind"], string];
    table.set(id, { kind, lastUsed: last === "never" ? Number.NEGATIVE_INFINITY : Number(last) });
  }
  return (m) => table.get(m) ?? { kind: "idle", lastUsed: Number.NEGATIVE_INFINITY };
}

describe("evictionOrder", () => {
  test("stopping first, then idle least recently used first (never used oldest), then busy", () => {
    expect(evictionOrder(["a", "b", "c", "d"], usage("a:busy:1 b:idle:9 c:idle:never d:stopping:50"))).toEqual(["d", "c", "b", "a"]);
  });
});

describe("evictionFor with maxLoaded (LRU count)", () => {
  test.each([
    ["under the limit evicts nothing", "c", ["a"], "a:idle:1", []],
    ["at the limit evicts the least recently used idle model", "c", ["a", "b"], "a:idle:5 b:idle:3", ["b"]],
    ["a never-used model counts as oldest", "c", ["a", "b"], "a:idle:never b:idle:3", ["a"]],
    ["a busy model is evicted only when no idle one is left (the core waits for it)", "c", ["a", "b"], "a:busy:1 b:busy:2", ["a"]],
    ["an idle model goes before an older busy one", "c", ["a", "b"], "a:busy:1 b:idle:9", ["b"]],
    ["a stopping model is given up first: it is going anyway", "c", ["a", "b"], "a:idle:1 b:stopping:9", ["b"]],
    ["persistent models neither count nor go", "c", ["a", "p"], "a:idle:1 p:idle:0", []],
    ["a running target needs no room", "a", ["a", "b"], "a:idle:1 b:idle:1", []],
  ])("%s", (_name, target, running, spec, expected) => {
    expect(evictionFor(target, running, config({ maxLoaded: 2 }), usage(spec))).toEqual(expected);
  });

  test("maxLoaded 0 is no limit", () => {
    expect(evictionFor("d", ["a", "b", "c"], config({ maxLoaded: 0 }), usage(""))).toEqual([]);
  });

  test("applies on top of the router: what the group evicts counts as gone", () => {
    const c = testConfig(["x", "y", "z"], { maxLoaded: 1 });
    expect(evictionFor("z", ["x"], c, usage(""))).toEqual(["x"]);
  });

  test("applies on top of a matrix", () => {
    const c = testConfig(["x", "y", "z"], { maxLoaded: 2, router: "matrix", matrix: { vars: {}, evictCosts: {}, sets: [{ name: "all", expr: "x & y & z" }] } });
    expect(evictionFor("z", ["x", "y"], c, usage("x:idle:5 y:idle:2"))).toEqual(["y"]);
  });
});

describe("evictionFor with resources (memory fit)", () => {
  const vram = { a: 10, b: 8, c: 12, d: 30, p: 4 };
  const cfg = config({ resources: { vram: 24 * GiB, ram: null } }, vram);

  test.each([
    ["fits beside what runs: nothing evicted", "b", ["a"], "a:idle:1", []],
    ["does not fit: the least recently used idle model goes", "c", ["a", "b"], "a:idle:1 b:idle:5", ["a"]],
    ["evicts as many as needed, in LRU order", "c", ["a", "b", "p"], "a:idle:1 b:idle:5 p:idle:0", ["a"]],
    ["an idle model goes before an older busy one", "c", ["a", "b"], "a:busy:1 b:idle:5", ["b"]],
  ])("%s", (_name, target, running, spec, expected) => {
    expect(evictionFor(target, running, cfg, usage(spec))).toEqual(expected);
  });

  test("busy models go only when idle ones are not enough (the core then waits for them)", () => {
    const c = config({ resources: { vram: 24 * GiB, ram: null } }, { ...vram, c: 20 });
    expect(evictionFor("c", ["a", "b"], c, usage("a:busy:1 b:idle:5"))).toEqual(["b", "a"]);
  });

  test("a model that can never fit is refused with the numbers", () => {
    expect(evictionFor("d", [], cfg, usage(""))).toEqual({ cannotFit: "Cannot start model d as it needs 30 GiB of vram and resources.vram is 24 GiB" });
  });

  test("a model that cannot fit beside the persistent ones is refused with the numbers", () => {
    const c = config({ resources: { vram: 24 * GiB, ram: null } }, { ...vram, c: 22 });
    expect(evictionFor("c", ["p", "a"], c, usage(""))).toEqual({
      cannotFit: "Cannot start model c as it needs 22 GiB of vram, persistent models keep 4 GiB and resources.vram is 24 GiB",
    });
  });

  test("ram is counted like vram; an undeclared limit is not checked", () => {
    const ids = ["a", "b"];
    const c = testConfig(Object.fromEntries(ids.map((id) => [id, { resources: { vram: 100 * GiB, ram: 3 * GiB } }])), {
      groups: { all: group("all", ids) },
      resources: { vram: null, ram: 4 * GiB },
    });
    expect(evictionFor("b", ["a"], c, usage(""))).toEqual(["a"]);
  });

  test("count and memory together: the count's victim also frees memory", () => {
    const c = config({ maxLoaded: 2, resources: { vram: 24 * GiB, ram: null } }, vram);
    expect(evictionFor("c", ["a", "b"], c, usage("a:idle:1 b:idle:5"))).toEqual(["a"]);
  });
});
