/**
 * The official `openai` npm client against modelswap in front of real
 * llama-server processes: streamed chat (tokens, usage, finish reason), the
 * `stream()` helper over a cold start whose loading state arrives as
 * `reasoning_content`, completions, and llama-server's own 400 reaching the
 * SDK as an `APIError` with llama-server's message (warm), and in the error
 * event of a loading-state stream (cold).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, lastEventData, type SwapServer, startSwapServer } from "../e2e/swap-harness.ts";
import { llamaCmd, type RealEnv, realEnv } from "./harness.ts";

const tmp = tempDir("modelswap-real-sdk-");
let env: RealEnv;
let ms: SwapServer;
let client: OpenAI;

beforeAll(async () => {
  env = await realEnv();
  ms = await startSwapServer(tmp, {
    hooks: false,
    top: "groups:\n  all:\n    swap: false\n    members: [alpha, loading]",
    models: {
      alpha: { cmd: llamaCmd(env, "alpha") },
      loading: { cmd: llamaCmd(env, "beta", { alias: "loading" }), yaml: "sendLoadingState: true" },
    },
  });
  client = new OpenAI({ baseURL: `${ms.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(() => finishSwapFile(ms, tmp));

describe("the OpenAI SDK against llama-server", () => {
  test("chat.completions.create with stream: true yields llama-server's tokens, then usage", async () => {
    const stream = await client.chat.completions.create({
      model: "alpha",
      stream: true,
      max_tokens: 12,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hello there" }],
    });
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.trim().length).toBeGreaterThan(0);
    expect(chunks).toBeGreaterThanOrEqual(12);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(12);
  });

  test("stream() over a cold start with sendLoadingState: loading progress as reasoning, then the answer", async () => {
    expect(ms.pids("loading")).toEqual([]);
    const runner = client.chat.completions.stream({ model: "loading", max_tokens: 6, messages: [{ role: "user", content: "hi" }] });
    let reasoning = "";
    let content = "";
    for await (const chunk of runner) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    const final = await runner.finalChatCompletion();
    expect(reasoning).toContain("modelswap loading model: loading");
    expect(reasoning).toMatch(/Done! \(\d+\.\d\ds\)/);
    expect(content.trim().length).toBeGreaterThan(0);
    expect(final.choices[0]?.finish_reason).toBe("length");
    expect(final.model).toBe("loading");
  });

  test("completions.create (llama-server's /v1/completions) answers with text", async () => {
    const res = await client.completions.create({ model: "alpha", prompt: "Once upon a time", max_tokens: 5 });
    expect(res.choices[0]?.text.length).toBeGreaterThan(0);
    expect(res.usage?.completion_tokens).toBe(5);
  });

  test("llama-server's own 400 reaches the SDK as a BadRequestError with its message (warm model)", async () => {
    const err = await client.chat.completions
      .create({ model: "alpha", messages: [{ role: "user", content: "hi" }], temperature: "hot" as unknown as number, max_tokens: 2 })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("Field 'temperature'");
  });

  test("a cold start with sendLoadingState whose request llama-server refuses: 200, then an error event with llama-server's own 400 body", async () => {
    await ms.unload("loading");
    const res = await fetch(`${ms.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "loading", stream: true, temperature: "hot", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200); // the loading chunks went out first
    const text = await res.text();
    expect(text).toContain("modelswap loading model: loading");
    const last = lastEventData(text) as { status?: number; error?: { code: unknown; type: string; message: string } };
    expect(last.status).toBe(400);
    expect(last.error?.code).toBe(400);
    expect(last.error?.type).toBe("invalid_request_error");
    expect(last.error?.message).toContain("Field 'temperature'");
  });
});
