/**
 * Residency groups through the real `modelswap serve`: swap, exclusive and
 * persistent keep the right fake-upstream processes running, and a ready
 * model that nothing evicts is served while other requests wait.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, openStream, startSwapServer, type SwapServer } from "./swap-harness.ts";

const tmp = tempDir("modelswap-swap-groups-");
const MODELS = ["a", "b", "c", "d", "p", "x"] as const;
let ms: SwapServer;
beforeAll(async () => {
  ms = await startSwapServer(tmp, {
    models: { ...Object.fromEntries(MODELS.map((m) => [m, "--tokens 1"])), a: "--tokens 25 --token-interval 20ms" },
    top: [
      "groups:",
      "  pair: { swap: true, exclusive: false, members: [a, b] }",
      "  duo: { swap: false, exclusive: false, members: [c, d] }",
      "  keep: { swap: true, exclusive: false, persistent: true, members: [p] }",
      "  solo: { swap: true, exclusive: true, members: [x] }",
    ].join("\n"),
  });
});
afterAll(() => finishSwapFile(ms, tmp));

/** Models in state ready according to /running, sorted. */
async function resident(): Promise<string[]> {
  const body = (await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
  return body.running.filter((r) => r.state === "ready").map((r) => r.model).sort();
}

test.each([
  ["swap: a member replaces the other", ["a", "b"], ["b"]],
  ["swap: false: members run together", ["c", "d"], ["c", "d"]],
  ["non-exclusive groups leave each other alone", ["a", "c"], ["a", "c"]],
  ["exclusive unloads the other groups but not a persistent one", ["a", "c", "p", "x"], ["p", "x"]],
  ["a non-exclusive group leaves even an exclusive one running (llama-swap)", ["x", "a"], ["a", "x"]],
])("%s: %p leaves %p running", async (_, requests, expected) => {
  await ms.unload();
  await ms.settle();
  for (const model of requests) {
    const res = await ms.chat(model);
    expect(res.status).toBe(200);
    await res.text();
  }
  await ms.settle();
  expect(await resident()).toEqual(expected);
  for (const model of MODELS) expect(ms.pids(model)).toHaveLength(expected.includes(model) ? 1 : 0);
});

test("a ready model that nothing is evicting is served at once while another model's swap waits", async () => {
  await ms.unload();
  const warm = await ms.chat("c");
  expect(warm.status).toBe(200);
  await warm.text();
  const stream = await openStream(await ms.chat("a", { stream: true }));
  const since = await ms.lastSeq();
  // b must wait: starting it would stop a, which has a request in flight.
  const waiting = ms.chat("b");
  await ms.waitEvent((e) => e.kind === "inflight" && e.model === "b" && e.queued === 1, since);
  const res = await ms.chat("c");
  expect(res.status).toBe(200);
  await res.text();
  // b was still waiting when c was served.
  expect(await ms.transitions("b", "starting", since)).toBe(0);
  expect((await stream.rest).text).toContain("data: [DONE]");
  expect((await waiting).status).toBe(200);
  await ms.settle();
  expect(await resident()).toEqual(["b", "c"]);
});
