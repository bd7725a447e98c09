/**
 * Real llama-server processes behind a real modelswap: cold starts (plain
 * and streamed), the time from spawn to the first byte through modelswap
 * against llama-server started directly (reported, not asserted), and swaps
 * between two models that leave nothing running behind them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, pgidOf, type SwapServer, startSwapServer, waitGroupGone } from "../e2e/swap-harness.ts";
import { chatBody, firstByte, llamaCmd, median, postJson, type RealEnv, realEnv, report, sseContent, startDirect, waitHealthy } from "./harness.ts";

const tmp = tempDir("modelswap-real-cold-");
let env: RealEnv;
let ms: SwapServer;

beforeAll(async () => {
  env = await realEnv();
  ms = await startSwapServer(tmp, {
    hooks: false,
    top: "groups:\n  pair:\n    members: [alpha, beta]",
    models: { alpha: { cmd: llamaCmd(env, "alpha") }, beta: { cmd: llamaCmd(env, "beta") } },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

interface Chat {
  model: string;
  object: string;
  choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
  usage: { completion_tokens: number; prompt_tokens: number };
  timings: { predicted_n: number; predicted_ms: number; prompt_n: number };
}

describe("cold start", () => {
  test("non-stream: the first request starts llama-server and gets its chat completion, with usage and timings", async () => {
    expect(ms.pids("alpha")).toEqual([]);
    const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 8 }));
    const text = await res.text();
    expect(`${res.status} ${text}`).toStartWith("200 ");
    const chat = JSON.parse(text) as Chat;
    expect(chat.object).toBe("chat.completion");
    expect(chat.model).toBe("alpha"); // --alias; without it llama-server puts the model's path here
    expect(chat.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(chat.choices[0]?.finish_reason).toBe("length");
    expect(chat.usage.completion_tokens).toBe(8);
    expect(chat.timings.predicted_n).toBe(8);
    expect(ms.pids("alpha")).toHaveLength(1);
  });

  test("stream: a cold model streams llama-server's SSE chunks to [DONE]", async () => {
    await ms.unload();
    const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody("beta", { stream: true, maxTokens: 8 }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const { content, done, events } = sseContent(await res.text());
    expect(done).toBe(true);
    expect(content.length).toBeGreaterThan(0);
    expect(events).toBeGreaterThanOrEqual(8);
  });

  test("time from spawn to the first byte, through modelswap and with llama-server started directly (reported)", async () => {
    const via: number[] = [];
    const direct: number[] = [];
    const seen: Array<{ refused: number; loading: number }> = [];
    for (let i = 0; i < 5; i++) {
      await ms.unload();
      const t0 = performance.now();
      const a = await firstByte(postJson(`${ms.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 1 })), t0);
      expect(a.status).toBe(200);
      via.push(a.ms);

      const d = startDirect(env, "alpha");
      seen.push(await waitHealthy(d.url));
      const b = await firstByte(postJson(`${d.url}/v1/chat/completions`, chatBody("alpha", { maxTokens: 1 })), d.spawnedAt);
      expect(b.status).toBe(200);
      direct.push(b.ms);
      await d.stop();
    }
    report("cold start, spawn to first byte, via modelswap (ms)", via.map((x) => Math.round(x)));
    report("cold start, spawn to first byte, llama-server direct, /health polled every 5 ms (ms)", direct.map((x) => Math.round(x)));
    report("cold start, median difference modelswap - direct (ms)", Math.round(median(via) - median(direct)));
    report("llama-server before 200 on /health: refused connections, 503 Loading model answers", seen);
  });
});

describe("swaps", () => {
  test("alpha → beta → alpha in one group: each swap stops the other llama-server and its process group is gone", async () => {
    let previous: { model: string; pgid: number } | null = null;
    for (const model of ["alpha", "beta", "alpha", "beta"] as const) {
      const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody(model, { maxTokens: 4 }));
      const text = await res.text();
      expect(`${res.status} ${text}`).toStartWith("200 ");
      expect((JSON.parse(text) as Chat).model).toBe(model);
      if (previous && previous.model !== model) {
        await waitGroupGone(previous.pgid);
        expect(ms.pids(previous.model)).toEqual([]);
      }
      expect(ms.pids(model)).toHaveLength(1);
      previous = { model, pgid: pgidOf(ms.pids(model)[0]!)! };
    }
    const running = (await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
    expect(running.running).toEqual([expect.objectContaining({ model: "beta", state: "ready" })]);
  });

  test("swapping under concurrent requests for both models: every request gets its own model's answer", async () => {
    const order = ["alpha", "beta", "alpha", "beta", "alpha", "beta"] as const;
    const answers = await Promise.all(
      order.map(async (model) => {
        const res = await postJson(`${ms.url}/v1/chat/completions`, chatBody(model, { maxTokens: 2 }));
        const text = await res.text();
        return { status: res.status, model: res.status === 200 ? (JSON.parse(text) as Chat).model : text };
      }),
    );
    expect(answers).toEqual(order.map((model) => ({ status: 200, model })));
    expect(ms.allModelPids()).toHaveLength(1);
  });
});
