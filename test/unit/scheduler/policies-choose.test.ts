/** Choosing among candidates in the core: spillover, warm and replicas (src/scheduler/policies/choose.ts). */
import { describe, expect, test } from "bun:test";
import { type Candidate, chooseReplica, chooseSpillover, chooseWarm } from "../../../src/scheduler/policies/index.ts";

/** `a=2`: local, active (ready), 2 in flight + waiting; `a~1`: starting with 1; `a-`: stopped; `a!`: in backoff; `p`: a peer. */
function candidates(spec: string): Candidate[] {
  return spec.split(" ").map((w): Candidate => {
    if (w === "p") return { id: w, peer: true, state: "ready", load: 0 };
    if (w.endsWith("-")) return { id: w.slice(0, -1), peer: false, state: "stopped", load: 0 };
    if (w.endsWith("!")) return { id: w.slice(0, -1), peer: false, state: "blocked", load: 0 };
    if (w.includes("~")) return { id: w.split("~")[0]!, peer: false, state: "starting", load: Number(w.split("~")[1]) };
    return { id: w.split("=")[0]!, peer: false, state: "ready", load: Number(w.split("=")[1]) };
  });
}

describe("chooseSpillover (llama-swap's rules)", () => {
  test.each([
    ["a- b- c-", 2, "a", "nothing active: start the first target"],
    ["a=1 b- c-", 2, "a", "the first active target has room"],
    ["a=2 b- c-", 2, "b", "the active targets are full: start the next one"],
    ["a=2 b=0 c-", 2, "b", "the next active target has room"],
    ["a- b=1 c-", 2, "b", "an active target with room beats starting one"],
    ["a=2 b- c=1", 2, "c", "any active target with room, in order, beats starting one"],
    ["a=2 b=2 c-", 2, "c", "spill into the last target"],
    ["a=2 b=3 c=2", 2, "a", "every target active and full: the first one (it queues)"],
    ["a~1 b-", 2, "a", "a starting target counts as active: its waiters fill it"],
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
    expect(chooseSpillover(candidates(spec), reserve)).toBe(expected);
  });

  test("no targets → null", () => expect(chooseSpillover([], 1)).toBeNull());
});

describe("chooseWarm", () => {
  test.each([
    ["a- b=3", "b", "the first ready target"],
    ["a- b~0 c=0", "c", "ready beats starting"],
    ["a- b~2", "b", "else the first starting one"],
    ["a- b-", "a", "else the first target (cold start)"],
  ])("%s → %s (%s)", (spec, expected) => expect(chooseWarm(candidates(spec))).toBe(expected));
});

describe("chooseReplica", () => {
  test.each([
    ["a=1 b=0", "b", "the fewest in flight"],
    ["a=0 b=0", "a", "a tie goes to the lowest slot"],
    ["a=1 b-", "b", "a stopped replica has none in flight: it is started"],
    ["a=0 b-", "a", "a tie goes to ready over stopped"],
    ["a~1 b-", "b", "a burst: the second request starts the second replica"],
    ["a=3 b!", "a", "a replica in its restart delay is passed over"],
    ["a! b!", "a", "all in their restart delay: the first (the core answers for it)"],
  ])("%s → %s (%s)", (spec, expected) => expect(chooseReplica(candidates(spec))).toBe(expected));
});
