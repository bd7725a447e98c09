import { describe, expect, test } from "bun:test";
import { parseDuration, parseDurationWithUnit } from "../../../src/lib/duration.ts";

describe("parseDuration()", () => {
  test.each([
    ["500ms", 500],
    ["5s", 5000],
    ["2m", 120_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["250", 250],
    ["1h", 3_600_000],
  ])("%s is %i ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(["", "5x", "-1s", "s", "5 s", "2 days"])("%j throws a RangeError", (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe("parseDurationWithUnit() (command-line flags)", () => {
  test.each([
    ["0", 0],
    ["500ms", 500],
    ["5s", 5000],
    ["1m30s", 90_000],
  ])("%s is %i ms", (text, ms) => expect(parseDurationWithUnit(text)).toBe(ms));

  test("a bare number is refused with both readings spelled out, never guessed", () => {
    expect(() => parseDurationWithUnit("5")).toThrow(new RangeError("Cannot parse duration: add a unit to '5' (5s for seconds, 5ms for milliseconds)"));
  });
});
