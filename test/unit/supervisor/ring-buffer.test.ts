import { describe, expect, test } from "bun:test";
import { LineRing } from "../../../src/supervisor/ring-buffer.ts";

describe("LineRing", () => {
  test("keeps lines oldest first and returns the last n", () => {
    const ring = new LineRing(100);
    for (const l of ["a", "b", "c"]) ring.push(l);
    expect(ring.tail(2)).toEqual(["b", "c"]);
    expect(ring.tail(10)).toEqual(["a", "b", "c"]);
    expect(ring.tail(0)).toEqual([]);
  });

  test("drops the oldest lines once the total size exceeds maxBytes", () => {
    const ring = new LineRing(10);
    for (const l of ["1234", "5678", "abcd"]) ring.push(l);
    expect(ring.tail(10)).toEqual(["5678", "abcd"]);
    expect(ring.bytes).toBe(8);
    expect(ring.size).toBe(2);
  });

  test("keeps the end of a line longer than maxBytes", () => {
    const ring = new LineRing(4);
    ring.push("abcdefgh");
    expect(ring.tail(1)).toEqual(["efgh"]);
  });

  test("stays bounded over many lines", () => {
    const ring = new LineRing(1000);
    for (let i = 0; i < 100_000; i++) ring.push(`line ${i}`);
    expect(ring.bytes).toBeLessThanOrEqual(1000);
    expect(ring.tail(1)).toEqual(["line 99999"]);
  });

  test.each([0, -1, Number.NaN])("rejects maxBytes %p", (n) => {
    expect(() => new LineRing(n)).toThrow(RangeError);
  });
});
