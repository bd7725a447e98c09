import { describe, expect, test } from "bun:test";
import { deadline, delay, exponentialBackoffWithJitter, poll, retry, RetryError } from "../../../src/lib/async.ts";

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

describe("retry()", () => {
  test("returns the first success", async () => {
    let calls = 0;
    const v = await retry(() => {
      calls++;
      if (calls < 3) throw new Error("not yet");
      return "ok";
    }, { minTimeout: 1, maxTimeout: 2 });
    expect(v).toBe("ok");
    expect(calls).toBe(3);
  });

  test("throws RetryError with the last error as cause after maxAttempts", async () => {
    let calls = 0;
    const err = await retry(() => {
      calls++;
      throw new Error(`fail ${calls}`);
    }, { maxAttempts: 2, minTimeout: 1, maxTimeout: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryError);
    expect(((err as RetryError).cause as Error).message).toBe("fail 2");
  });

  test.each([
    [{ maxAttempts: 0 }, "Cannot retry as 'maxAttempts' must be a positive integer: current value is 0"],
    [{ jitter: 2 }, "Cannot retry as 'jitter' must be between 0 and 1: current value is 2"],
    [{ minTimeout: 10, maxTimeout: 5 }, "Cannot retry as 'minTimeout' must be <= 'maxTimeout': current values 10 > 5"],
  ])("rejects bad options %p", async (options, message) => {
    await expect(retry(() => 1, options)).rejects.toThrow(message);
  });
});

describe("exponentialBackoffWithJitter()", () => {
  test.each([
    [0, 0, 100],
    [1, 0, 200],
    [5, 0, 1000],
    [1, 1, 100],
  ])("attempt %i with random()=%f waits %i ms (base 100, cap 1000, jitter 0.5)", (attempt, r, want) => {
    expect(exponentialBackoffWithJitter(1000, 100, attempt, 2, 0.5, () => r)).toBe(want);
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
