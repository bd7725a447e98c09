/** llama-swap's matrix solver: lowest eviction cost, ties by definition order. */
import { describe, expect, test } from "bun:test";
import type { MatrixConfig } from "../../../src/config/types.ts";
import { evictionFor } from "../../../src/scheduler/policies/index.ts";
import { expandSets } from "../../../src/scheduler/policies/matrix.ts";
import { backoffMs } from "../../../src/scheduler/policies/index.ts";
import { testConfig } from "../../helpers/config-fixture.ts";

const matrix: MatrixConfig = {
  vars: { g: "gemma", q: "qwen", m: "mistral", v: "voxtral", e: "rerank" },
  evictCosts: { v: 50, big: 30 },
  sets: [
    { name: "standard", expr: "(g | qwen | m) & v" },
    { name: "with_rerank", expr: "(g | q) & v & e" },
    { name: "creative", expr: "(g | q) & sd" },
    { name: "full", expr: "big" },
    { name: "inline", expr: "+creative & e" },
  ],
};
const config = testConfig(["gemma", "qwen", "mistral", "voxtral", "rerank", "sd", "big", "solo"], { router: "matrix", matrix });

describe("matrix sets", () => {
  test("expand &, |, () and +ref into concrete sets, vars resolved", () => {
    const sets = expandSets(matrix).map((s) => `${s.name}:${s.models.join(",")}`);
    expect(sets).toEqual([
      "standard:gemma,voxtral", "standard:qwen,voxtral", "standard:mistral,voxtral",
      "with_rerank:gemma,voxtral,rerank", "with_rerank:qwen,voxtral,rerank",
      "creative:gemma,sd", "creative:qwen,sd",
      "full:big",
      "inline:gemma,sd,rerank", "inline:qwen,sd,rerank",
    ]);
  });

  test("a recursive reference is an error", () => {
    expect(() => expandSets({ vars: {}, evictCosts: {}, sets: [{ name: "a", expr: "+a & x" }] })).toThrow(SyntaxError);
  });
});

describe("evictionFor with a matrix", () => {
  test.each([
    ["a running target evicts nothing", "gemma", ["gemma", "big"], []],
    ["keeps the costly voxtral by choosing a set with it", "qwen", ["gemma", "voxtral"], ["gemma"]],
    ["subsets are allowed: nothing to evict", "rerank", ["gemma", "voxtral"], []],
    ["evicts the cheapest way: sd (1) rather than voxtral (50)", "qwen", ["voxtral", "sd"], ["sd"]],
    ["the big model runs alone", "big", ["gemma", "voxtral"], ["gemma", "voxtral"]],
    ["a model in no set runs alone", "solo", ["gemma"], ["gemma"]],
  ] as Array<[string, string, string[], string[]]>)("%s", (_n, target, running, expected) => {
    expect(evictionFor(target, running, config)).toEqual(expected);
  });
});

describe("backoffMs", () => {
  test.each([
    [1, 0.5, 1000], [2, 0.5, 2000], [3, 0.5, 4000], [4, 0.5, 8000], [5, 0.5, 16_000], [6, 0.5, 30_000], [20, 0.5, 30_000],
    [1, 0, 900], [1, 1, 1100], [6, 0, 27_000], [6, 1, 33_000],
  ])("after %i failures with random %d waits %i ms (1, 2, 4, 8, 16, then 30 s, ±10 %%)", (n, r, ms) => {
    expect(backoffMs(n, () => r)).toBe(ms);
  });
});
