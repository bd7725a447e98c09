import { describe, expect, test } from "bun:test";
import { closest, editDistance } from "../../../src/lib/did-you-mean.ts";

describe("editDistance()", () => {
  test.each([
    ["ttl", "ttl", 0],
    ["ttll", "ttl", 1],
    ["lsiten", "listen", 1],
    ["StartPort", "startport", 0],
    ["abc", "xyz", 3],
  ])("%p → %p is %i", (a, b, want) => expect(editDistance(a, b)).toBe(want));
});

describe("closest()", () => {
  const keys = ["healthCheckTimeout", "startPort", "stripParams", "ttl", "models"];
  test.each([
    ["starport", "startPort"],
    ["strip_params", "stripParams"],
    ["ttll", "ttl"],
    ["model", "models"],
    ["healthchecktimeout", "healthCheckTimeout"],
    ["colour", null],
  ])("%p → %p", (input, want) => expect(closest(input, keys)).toBe(want));

  test.each([
    ["confg", "config"],
    ["lsiten", "listen"],
    ["watch", "watch-config"],
    ["xyz", null],
  ])("closest(%p) among command-line flags = %p", (input, want) => {
    expect(closest(input, ["config", "listen", "watch-config", "version"])).toBe(want);
  });
});
