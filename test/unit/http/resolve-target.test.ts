import { describe, expect, test } from "bun:test";
import { applyFilters, filtersAreNoop } from "../../../src/http/resolve/filters.ts";
import { buildIndex, pickSpillover, resolveTarget, type Target, type TargetLoad } from "../../../src/http/resolve/targets.ts";
import { config, peer } from "./config-fixture.ts";
import { FakeScheduler } from "./fake-scheduler.ts";

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
  return resolveTarget(index, name, { profile, scheduler: new FakeScheduler() });
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
    expect(await resolve("gpt", "night")).toEqual({ kind: "local", requested: "gpt", model: "qwen" });
    await expect(resolve("llama", "night")).rejects.toMatchObject({ status: 404 });
    expect(await resolve("qwen", "night")).toEqual({ kind: "local", requested: "qwen", model: "qwen" });
  });
});

describe("pickSpillover", () => {
  /** `a=2`: local, active, 2 in flight + queued; `a-`: local, not active; `p`: a peer. */
  const loads = (spec: string) => {
    const m = new Map<string, TargetLoad>();
    for (const w of spec.split(" ")) {
      if (w === "p") m.set(w, { kind: "peer" });
      else if (w.endsWith("-")) m.set(w.slice(0, -1), { kind: "local", active: false, load: 0 });
      else m.set(w.split("=")[0]!, { kind: "local", active: true, load: Number(w.split("=")[1]) });
    }
    return { targets: [...m.keys()], loadOf: (t: string) => m.get(t)! };
  };

  test.each([
    ["a- b- c-", 2, "a", "nothing active: start the first target"],
    ["a=1 b- c-", 2, "a", "the first active target has room"],
    ["a=2 b- c-", 2, "b", "the active targets are full: start the next one"],
    ["a=2 b=0 c-", 2, "b", "the next active target has room"],
    ["a- b=1 c-", 2, "b", "an active target with room beats starting one"],
    ["a=2 b- c=1", 2, "c", "any active target with room, in order, beats starting one"],
    ["a=2 b=2 c-", 2, "c", "spill into the last target"],
    ["a=2 b=3 c=2", 2, "a", "every target active and full: the first one (it queues)"],
    ["a=0 b-", 1, "a", "the default reservation is one request per target"],
    ["a=1 b-", 1, "b", "one request in flight fills a target at reservation 1"],
    ["a- p", 2, "a", "a peer after a local target: start the local one first"],
    ["a=1 p", 2, "a", "a peer after a local target with room: the local one"],
    ["a=2 p", 2, "p", "a peer overflows the full local targets before it"],
    ["p a=0", 2, "p", "a peer listed first takes everything: its load is unknown"],
    ["a=2 b- p", 2, "b", "a local target before a peer is started before the peer is used"],
    ["a- b=2 p", 2, "a", "a cold target before the peer is started, even behind a full one"],
    ["a=2 p b=0", 2, "p", "order decides between a peer and an active target with room after it"],
  ])("%s at reservation %i → %s (%s)", (spec, reserve, expected) => {
    const { targets, loadOf } = loads(spec);
    expect(pickSpillover(targets, loadOf, reserve)).toBe(expected);
  });

  test("no targets → null", () => {
    expect(pickSpillover([], () => ({ kind: "peer" }), 1)).toBeNull();
  });
});

describe("resolveTarget with a spillover selector", () => {
  const spillCfg = config(
    { llama: { aliases: ["gpt"] }, qwen: {} },
    {
      peers: { a: peer("a", "http://a", ["only-a"]) },
      selectors: { spill: { id: "spill", strategy: "spillover", targets: ["gpt", "qwen", "a/only-a"], name: "", description: "", metadata: {}, spillover: 2 } },
    },
  );
  const spillIndex = buildIndex(spillCfg);

  test.each([
    ["nothing running: starts the first target (an alias resolves to its model)", {}, "local llama"],
    ["llama ready with room", { llama: ["ready", 1, 0] }, "local llama"],
    ["llama starting counts as active: its waiters fill it", { llama: ["starting", 0, 1] }, "local llama"],
    ["llama full (in flight + queued): starts qwen", { llama: ["ready", 1, 1] }, "local qwen"],
    ["llama stopping is not active: start it again", { llama: ["stopping", 0, 0], qwen: ["ready", 2, 0] }, "local llama"],
    ["both local targets full: overflow to the peer", { llama: ["ready", 2, 0], qwen: ["ready", 0, 2] }, "peer a only-a"],
  ] as const)("%s", async (_name, statuses, expected) => {
    const scheduler = new FakeScheduler();
    for (const [id, [state, inFlight, queued]] of Object.entries(statuses)) {
      scheduler.states.set(id, state);
      scheduler.loads.set(id, { inFlight, queued });
    }
    for (const id of ["llama", "qwen"]) if (!scheduler.states.has(id)) scheduler.states.set(id, "stopped");
    const t = await resolveTarget(spillIndex, "spill", { profile: null, scheduler });
    expect(t.requested).toBe("spill");
    expect(t.kind === "local" ? `local ${t.model}` : `peer ${t.peer.id} ${t.model}`).toBe(expected);
    expect("note" in t).toBe(false); // no "routed like warm" log line any more
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
