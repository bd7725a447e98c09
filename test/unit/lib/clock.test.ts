import { describe, expect, test } from "bun:test";
import { ManualClock, RealClock } from "../../../src/lib/clock.ts";

describe("ManualClock", () => {
  test("time moves only through advance()", () => {
    const clock = new ManualClock(1000);
    expect(clock.now()).toBe(1000);
    expect(clock.advance(250)).toBe(1250);
    expect(clock.now()).toBe(1250);
  });

  test("wakes sleepers that are due, in order of due time", async () => {
    const clock = new ManualClock();
    const woke: string[] = [];
    // Manual-clock milliseconds: nothing here waits in real time.
    const a = clock.sleep(30).then(() => woke.push("a"));
    const b = clock.sleep(10).then(() => woke.push("b"));
    clock.sleep(90).then(() => woke.push("never"));
    clock.advance(50);
    await Promise.all([a, b]);
    expect(woke).toEqual(["b", "a"]);
    expect(clock.pending).toBe(1);
  });

  test("an aborted sleep rejects and leaves no sleeper behind", async () => {
    const clock = new ManualClock();
    const c = new AbortController();
    const p = clock.sleep(10, c.signal);
    c.abort(new Error("cancelled"));
    await expect(p).rejects.toThrow("cancelled");
    expect(clock.pending).toBe(0);
  });

  test("refuses to move backwards", () => {
    expect(() => new ManualClock().advance(-1)).toThrow("Cannot advance the clock as 'ms' must be >= 0: current value is -1");
  });
});

describe("RealClock", () => {
  test("is monotonic and sleeps", async () => {
    const clock = new RealClock();
    const t0 = clock.now();
    await clock.sleep(5);
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 4);
  });
});
