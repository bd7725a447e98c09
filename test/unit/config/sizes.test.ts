import { describe, expect, test } from "bun:test";
import { formatSize, parseSize } from "../../../src/config/sizes.ts";

describe("parseSize()", () => {
  test.each([
    ["12GiB", 12 * 2 ** 30],
    ["12 GiB", 12 * 2 ** 30],
    ["24GB", 24e9],
    ["512MiB", 512 * 2 ** 20],
    ["1.5TiB", 1.5 * 2 ** 40],
    ["8G", 8 * 2 ** 30],
    ["100", 100],
    ["64gib", 64 * 2 ** 30],
  ])("%s is %d bytes", (text, bytes) => expect(parseSize(text)).toBe(bytes));

  test("a number is bytes", () => expect(parseSize(4096)).toBe(4096));

  test.each(["", "12 GiBs", "-1GiB", "GiB", "twelve"])("%j throws a RangeError", (text) => {
    expect(() => parseSize(text)).toThrow(RangeError);
  });
});

describe("formatSize()", () => {
  test.each([
    [12 * 2 ** 30, "12 GiB"],
    [1536 * 2 ** 20, "1.5 GiB"],
    [24e9, "22.4 GiB"],
    [512, "512 B"],
  ])("%d is %s", (bytes, text) => expect(formatSize(bytes)).toBe(text));
});
