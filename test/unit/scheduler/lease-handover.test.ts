import { expect, test } from "bun:test";
import { LEASE_HOLD_MS, LeaseHandover } from "../../../src/scheduler/lease-handover.ts";
import { poll } from "../../../src/lib/async.ts";

function handover() {
  const released: number[] = [];
  const h = new LeaseHandover((id) => released.push(id));
  h.reusable("A", true);
  h.reusable("B", true);
  return { h, released };
}

test("every held lease goes back to the scheduler once its hold ran out, those held later too", async () => {
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
