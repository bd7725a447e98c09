/**
 * Admission as tables: granting, the concurrency limit, exact in-flight
 * counting, and requests whose client leaves (src/scheduler/core/admission.ts).
 */
import { describe, expect, test } from "bun:test";
import { type Case, Harness, play, rulesConfig, served, SWAP } from "./core-harness.ts";

const cases: Case[] = [
  ["grants a ready model at once", [
    ...served(1, "A"),
    ["req 2 A", ["grant 2 A"]],
  ]],
  ["starts exactly one process for concurrent requests to a cold model", [
    ["req 1 A", ["start A"]],
    ["req 2 A", []],
    ["req 3 A", []],
    ["started A", ["grant 1 A", "grant 2 A", "grant 3 A"]],
  ]],
  ["counts queued plus in-flight against concurrencyLimit", [
    ["req 1 L", ["start L"]],
    ["req 2 L", []],
    ["req 3 L", ["reject 3 too_many_requests/1"]],
    ["started L", ["grant 1 L", "grant 2 L"]],
    ["req 4 L", ["reject 4 too_many_requests/1"]],
    ["release 1", []],
    ["req 5 L", ["grant 5 L"]],
  ]],
  ["counts in flight exactly: unknown and repeated releases are ignored, cancel of a grant releases", [
    ["release 99", []],
    ...served(1, "A"),
    ["req 2 B", []],
    ["release 1", [`stop A swap ${SWAP}`]],
    ["release 1", []],
    ["cancel 1", []],
    ["stopped A", ["start B"]],
    ["started B", ["grant 2 B"]],
    ["req 3 A", []],
    ["cancel 2", [`stop B swap ${SWAP}`]],
  ]],
  ["rejects unknown models and noStart requests for models not running", [
    ["req 1 nope", ["reject 1 model_not_found"]],
    ["req 2 A nostart", ["reject 2 not_running"]],
    ...served(3, "A"),
    ["req 4 A nostart", ["grant 4 A"]],
  ]],
  ["a queued request whose client left does not start its model", [
    ...served(1, "A"),
    ["req 2 B", []],
    ["cancel 2", []],
    ["release 1", []],
  ]],
  ["the last waiter leaving a swap that is still stopping others cancels the start", [
    ...served(1, "A", true),
    ["req 2 B", [`stop A swap ${SWAP}`]],
    ["cancel 2", []],
    ["stopped A", []],
  ]],
  ["a load already started may finish when its waiter leaves", [
    ["req 1 A", ["start A"]],
    ["cancel 1", []],
    ["started A", []],
    ["req 2 A", ["grant 2 A"]],
  ]],
];

describe("SchedulerCore rules", () => {
  test.each(cases)("%s", (_name, steps) => {
    const h = new Harness(rulesConfig());
    expect(play(h, steps)).toEqual(steps.map(([l, e]) => [l, e]));
  });
});
