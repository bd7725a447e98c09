import { describe, expect, test } from "bun:test";
import { applyFilters, filtersAreNoop } from "../../../src/http/resolve/filters.ts";
import { buildIndex, chosenTarget, resolveTarget, type Target } from "../../../src/http/resolve/targets.ts";
import { config, peer } from "./config-fixture.ts";

const cfg = config(
  {
    llama: { aliases: ["gpt"], filters: { stripParams: [], setParams: {}, setParamsByID: { "llama:fast": { top_k: 1 } } } },
    qwen: {},
  },
  {
    peers: {
      a: peer("a", "http://a", ["shared", "only-a"]),
      b: peer("b", "http://b", ["shared"]),
    },
    profiles: { night: { id: "night", description: "", pins: { gpt: "qwen", llama: null } } },
  },
);
const index = buildIndex(cfg);

async function resolve(name: string, profile: string | null = null): Promise<Target> {
  return resolveTarget(index, name, { profile });
}

describe("resolveTarget", () => {
  test.each([
    ["llama", "llama"],
    ["gpt", "llama"],
    ["llama:fast", "llama"],
    ["qwen", "qwen"],
  ])("%s is served locally by %s", async (name, model) => {
    expect(await resolve(name)).toEqual({ kind: "local", requested: name, model });
  });

  test.each([
    ["a/shared", "a", "shared"],
    ["b/shared", "b", "shared"],
    ["only-a", "a", "only-a"],
  ])("%s goes to peer %s as %s", async (name, peerId, model) => {
    const t = await resolve(name);
    expect(t.kind).toBe("peer");
    if (t.kind === "peer") expect([t.peer.id, t.model]).toEqual([peerId, model]);
  });

  test.each([["shared"], ["a/only-b"], ["c/x"], ["nope"]])("%s is 404 (unknown or ambiguous)", async (name) => {
    await expect(resolve(name)).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });

  test("an active profile pins ids to other models, and null disables one", async () => {
    // As llama-swap: the pin replaces the requested id (filters and the upstream see "qwen").
    expect(await resolve("gpt", "night")).toEqual({ kind: "local", requested: "qwen", model: "qwen" });
    await expect(resolve("llama", "night")).rejects.toMatchObject({ status: 404 });
    expect(await resolve("qwen", "night")).toEqual({ kind: "local", requested: "qwen", model: "qwen" });
  });
});

describe("resolveTarget with a warm or spillover selector", () => {
  const spillCfg = config(
    { llama: { aliases: ["gpt"] }, qwen: {} },
    {
      peers: { a: peer("a", "http://a", ["only-a"]) },
      selectors: {
        spill: { id: "spill", strategy: "spillover", targets: ["gpt", "qwen", "a/only-a"], name: "", description: "", metadata: {}, spillover: 2 },
        hot: { id: "hot", strategy: "warm", targets: ["qwen", "llama"], name: "", description: "", metadata: {}, spillover: 1 },
        first: { id: "first", strategy: "pin", targets: ["gpt", "qwen"], name: "", description: "", metadata: {}, spillover: 1 },
      },
    },
  );
  const spillIndex = buildIndex(spillCfg);

  test("names the candidates for the scheduler to choose from: aliases resolved, peers marked", () => {
    expect(resolveTarget(spillIndex, "spill", { profile: null })).toEqual({
      kind: "select",
      requested: "spill",
      selector: "spill",
      select: { strategy: "spillover", targets: ["llama", "qwen", "a/only-a"], peers: ["a/only-a"], reserve: 2 },
    });
    expect(resolveTarget(spillIndex, "hot", { profile: null })).toMatchObject({ kind: "select", select: { strategy: "warm", targets: ["qwen", "llama"], peers: [] } });
  });

  test("pin needs no choice: the first target", () => {
    expect(resolveTarget(spillIndex, "first", { profile: null })).toEqual({ kind: "local", requested: "first", model: "llama" });
  });

  test("the lease names the chosen target: a local model (a replica as its model), or a peer", () => {
    expect(chosenTarget(spillIndex, "spill", { model: "qwen", peer: null })).toEqual({ kind: "local", requested: "spill", model: "qwen" });
    const p = chosenTarget(spillIndex, "spill", { model: "a/only-a", peer: "a/only-a" });
    expect(p.kind === "peer" ? [p.peer.id, p.model] : p).toEqual(["a", "only-a"]);
  });
});

describe("filters", () => {
  const filters = { stripParams: ["a"], setParams: { b: { nested: 1 } }, setParamsByID: { "m:x": { b: 2 } } };

  test("setParamsByID applies only to its requested id and wins over setParams", () => {
    expect(applyFilters({ model: "m", a: 1 }, { requested: "m", useModelName: "", filters })).toEqual({ model: "m", b: { nested: 1 } });
    expect(applyFilters({ model: "m:x", a: 1 }, { requested: "m:x", useModelName: "", filters })).toEqual({ model: "m:x", b: 2 });
  });

  test.each([
    [{ stripParams: [], setParams: {}, setParamsByID: {} }, "", true],
    [{ stripParams: ["model"], setParams: { model: "x" }, setParamsByID: {} }, "", true],
    [{ stripParams: [], setParams: {}, setParamsByID: {} }, "other", false],
    [{ stripParams: ["t"], setParams: {}, setParamsByID: {} }, "", false],
  ])("filtersAreNoop(%o, useModelName=%p) is %p", (f, useModelName, noop) => {
    expect(filtersAreNoop({ requested: "m", useModelName, filters: f })).toBe(noop);
  });
});
