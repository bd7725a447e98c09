import { describe, expect, test } from "bun:test";
import { deadline, delay, poll } from "../../../src/lib/async.ts";

describe("delay()", () => {
  test("resolves after the timeout", async () => {
    const start = performance.now();
    await delay(5);
    expect(performance.now() - start).toBeGreaterThanOrEqual(4);
  });

  test("rejects with the signal's reason when aborted", async () => {
    const c = new AbortController();
    const p = delay(60_000, { signal: c.signal });
    c.abort(new Error("gone"));
    await expect(p).rejects.toThrow("gone");
  });

  test("rejects at once on an already aborted signal", async () => {
    await expect(delay(10, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe("deadline()", () => {
  test("passes through a promise that settles in time", async () => {
    expect(await deadline(Promise.resolve(7), 1000)).toBe(7);
  });

  test("rejects with TimeoutError when the promise is too slow", async () => {
    const never = new Promise<never>(() => {});
    const err = await deadline(never, 5).catch((e: unknown) => e);
    expect((err as DOMException).name).toBe("TimeoutError");
  });

  test("passes through the promise's own rejection", async () => {
    await expect(deadline(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
  });
});

describe("poll()", () => {
  test("resolves with the first defined value", async () => {
    let n = 0;
    expect(await poll(() => (++n >= 3 ? n : undefined), 1)).toBe(3);
  });

  test("rejects when the signal aborts", async () => {
    await expect(poll(() => undefined, 1, { signal: AbortSignal.timeout(20) })).rejects.toThrow();
  });
});
