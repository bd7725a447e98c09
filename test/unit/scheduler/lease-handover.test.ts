import { expect, test } from "bun:test";
import { LEASE_HOLD_MS, LEASE_MAX_HOLD_MS, LeaseHandover } from "../../../src/scheduler/lease-handover.ts";
import { delay, poll } from "../../../src/lib/async.ts";

function handover() {
  const released: number[] = [];
  const h = new LeaseHandover((id) => released.push(id));
  h.reusable("A", true);
  h.reusable("B", true);
  return { h, released };
}

test("every held lease goes back to the scheduler once its model had no request for a while, those held later too", async () => {
  const { h, released } = handover();
  expect(h.hold(1, "A", "http://a")).toBe(true);
  // Held while the first one's timer is pending (in the same task, so it cannot have fired; when it fires
  // this one has time left and the timer must wait again for it), then one held after it fired.
  const start = performance.now();
  while (performance.now() - start < LEASE_HOLD_MS / 2);
  expect(h.hold(2, "B", "http://b")).toBe(true);
  await poll(() => released.length >= 2 || undefined, 1, { signal: AbortSignal.timeout(5000) });
  expect(h.hold(3, "A", "http://a")).toBe(true);
  await poll(() => released.length >= 3 || undefined, 1, { signal: AbortSignal.timeout(5000) });
  expect(released.sort()).toEqual([1, 2, 3]);
});

test("a lease taken before its hold ran out is not released behind the taker's back", async () => {
  const { h, released } = handover();
  h.hold(1, "A", "http://a");
  h.hold(2, "A", "http://a");
  // The newest goes first: the oldest would run out first.
  expect(h.take("A", {})).toEqual({ id: 2, upstream: "http://a" });
  // Both were held in one tick, so both run out at the first expiry: only the one still held goes back.
  await poll(() => released.length > 0 || undefined, 1, { signal: AbortSignal.timeout(5000) });
  expect(released).toEqual([1]);
  expect(h.take("A", {})).toBeNull();
});

test("a model that stops being reusable gets its held leases back at once, the others keep theirs", () => {
  const { h, released } = handover();
  h.hold(1, "A", "http://a");
  h.hold(2, "B", "http://b");
  h.reusable("A", false);
  expect(released).toEqual([1]);
  expect(h.hold(3, "A", "http://a")).toBe(false);
  expect(h.take("B", {})).toEqual({ id: 2, upstream: "http://b" });
});

/** One request of `model` every ~1 ms (takes a held lease and holds it again) until `stop` says so. */
async function traffic(h: LeaseHandover, model: string, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const lease = h.take(model, {});
    if (lease !== null) h.hold(lease.id, model, lease.upstream);
    await delay(1);
  }
}

test("a model that keeps getting requests keeps its held leases; they go back once its requests stop", async () => {
  const { h, released } = handover();
  h.hold(1, "A", "http://a");
  h.hold(2, "A", "http://a");
  const start = performance.now();
  // Many periods of traffic: a lease that went back after a fixed hold would have gone long ago.
  await traffic(h, "A", () => performance.now() - start > 20 * LEASE_HOLD_MS);
  expect(released).toEqual([]);
  await poll(() => released.length >= 2 || undefined, 1, { signal: AbortSignal.timeout(5000) });
  expect(released.sort()).toEqual([1, 2]);
});

test("a lease held for LEASE_MAX_HOLD_MS goes back even while its model keeps getting requests", async () => {
  const { h, released } = handover();
  const start = performance.now();
  h.hold(1, "A", "http://a");
  h.hold(2, "A", "http://a");
  // The traffic only ever needs one lease: the newest (2) goes round, 1 stays below it.
  await traffic(h, "A", () => released.length > 0);
  expect(performance.now() - start).toBeGreaterThanOrEqual(LEASE_MAX_HOLD_MS);
  expect(released).toEqual([1]);
  expect(h.take("A", {})).toEqual({ id: 2, upstream: "http://a" });
});

test("a selector's request gives back what its targets hold, so the scheduler picks by their real load", () => {
  const { h, released } = handover();
  h.hold(1, "A", "http://a");
  h.hold(2, "B", "http://b");
  expect(h.take("A", { select: { strategy: "spillover", targets: ["A"], peers: [], reserve: 0 } })).toBeNull();
  expect(released).toEqual([1]);
  expect(h.take("B", {})).toEqual({ id: 2, upstream: "http://b" });
});
