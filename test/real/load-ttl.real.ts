/**
 * Load and idle time against llama-server: 8 concurrent streams through
 * modelswap to a llama-server with `--parallel 4` (4 slots: the streams come
 * back in two waves, reported), and `ttl` stopping an idle llama-server on
 * modelswap's manual clock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, pgidOf, type SwapServer, startSwapServer, waitGroupGone } from "../e2e/swap-harness.ts";
import { chatBody, llamaCmd, postJson, type RealEnv, realEnv, report, sseContent } from "./harness.ts";

const tmp = tempDir("modelswap-real-load-");
let env: RealEnv;
let ms: SwapServer;

beforeAll(async () => {
  env = await realEnv();
  ms = await startSwapServer(tmp, {
    top: "groups:\n  all:\n    swap: false\n    members: [wide, idle]",
    models: {
      // 4 slots of 256 tokens each.
      wide: { cmd: llamaCmd(env, "alpha", { ctx: 1024, parallel: 4, alias: "wide" }) },
      idle: { cmd: llamaCmd(env, "beta", { alias: "idle" }), yaml: "ttl: 5" },
    },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

describe("8 concurrent streams, --parallel 4", () => {
  test("every stream gets its own complete answer; llama-server served them 4 at a time (first bytes reported)", async () => {
    // Warm up: the cold start is not what this measures.
    const warm = await postJson(`${ms.url}/v1/chat/completions`, chatBody("wide", { maxTokens: 1 }));
    expect(warm.status).toBe(200);
    await warm.body?.cancel();
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody("wide", { stream: true, maxTokens: 48, prompt: `request number ${i}` }));
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let text = "";
        let firstToken = -1;
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          text += decoder.decode(r.value, { stream: true });
          if (firstToken < 0 && text.includes('"content"')) firstToken = performance.now() - t0;
        }
        return { status: res.status, firstToken, end: performance.now() - t0, ...sseContent(text), usage: usageOf(text) };
      }),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.done).toBe(true);
      expect(r.content.length).toBeGreaterThan(0);
      expect(r.usage).toBe(48);
    }
    report("8 streams through --parallel 4: first token (ms after start, sorted)", results.map((r) => Math.round(r.firstToken)).sort((a, b) => a - b));
    report("8 streams through --parallel 4: end (ms after start, sorted)", results.map((r) => Math.round(r.end)).sort((a, b) => a - b));
    // llama-server's own view afterwards: 4 slots, all idle again.
    const slots = (await (await fetch(`${ms.url}/upstream/wide/slots`)).json()) as Array<{ is_processing: boolean }>;
    expect(slots.map((s) => s.is_processing)).toEqual([false, false, false, false]);
  });
});

/** `completion_tokens` of the chunk that carries `timings` (llama-server's last one), or -1. */
function usageOf(text: string): number {
  for (const frame of text.split("\n\n").reverse()) {
    const data = frame.trim().replace(/^data: /, "");
    if (!data.startsWith("{")) continue;
    const chunk = JSON.parse(data) as { timings?: { predicted_n: number } };
    if (chunk.timings) return chunk.timings.predicted_n;
  }
  return -1;
}

describe("ttl", () => {
  test("an idle llama-server stops after its ttl on the manual clock, not before, and its process group is gone", async () => {
    const since = await ms.lastSeq();
    const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody("idle", { maxTokens: 2 }));
    expect(res.status).toBe(200);
    await res.text();
    await ms.waitEvent((e) => e.kind === "request" && e.model === "idle" && e.action === "released", since);
    const pgid = pgidOf(ms.pids("idle")[0]!)!;
    await ms.advance(4999);
    expect(await ms.transitions("idle", "stopping", since)).toBe(0);
    await ms.advance(1);
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "idle" && e.state === "stopped", since);
    await waitGroupGone(pgid);
    expect(ms.pids("idle")).toEqual([]);
    // A request after the ttl starts it again.
    const again = await postJson(`${ms.url}/v1/chat/completions`, chatBody("idle", { maxTokens: 2 }));
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});
