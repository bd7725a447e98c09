import { describe, expect, test } from "bun:test";
import { parseKeepAlive } from "../../../src/lib/keep-alive.ts";

describe("parseKeepAlive()", () => {
  test.each([
    [300, 300_000],
    [0, 0],
    [-1, -1000],
    [1.5, 1500],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["-1m", -60_000],
    ["0", 0],
    ["-1", -1000],
    ["45", 45_000],
    ["500ms", 500],
  ])("%j is %d ms", (value, ms) => expect(parseKeepAlive(value)).toBe(ms));

  test.each(["soon", "", "10 minutes", null, true, {}, Number.NaN])("%j throws a RangeError", (value) => {
    expect(() => parseKeepAlive(value)).toThrow(RangeError);
  });
});
