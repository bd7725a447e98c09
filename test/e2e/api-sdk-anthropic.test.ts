/**
 * The official `@anthropic-ai/sdk` client, unchanged, against a real
 * modelswap and real fake-upstream models: messages streaming and not, the
 * stream helper, count_tokens, the model list, and errors mapped to the SDK's classes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { type ApiServer, crashFake, type Echo, startApiServer } from "./api-harness.ts";

const KEY = "sk-ant-e2e";
let s: ApiServer;
let client: Anthropic;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `apiKeys: ["${KEY}"]
models:
  claude:
    cmd: ${fake()}
    aliases: [claude-e2e-latest]
  slow:
    cmd: ${fake("--tokens 100000 --token-interval 20ms")}
    concurrencyLimit: 1
  crashy:
    cmd: ${fake("--tokens 1000 --token-interval 20ms --exit-after-requests 2")}
groups:
  all:
    swap: false
    members: [claude, slow, crashy]
`,
  );
  client = new Anthropic({ baseURL: s.url, apiKey: KEY, maxRetries: 0 });
});

afterAll(() => s.stop());

type WithEcho = { echo?: Echo };

describe("the Anthropic SDK", () => {
  test("messages.create answers, and the upstream saw the SDK's body and headers without the key", async () => {
    const msg = await client.messages.create({ model: "claude-e2e-latest", max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
    expect(msg.content).toEqual([expect.objectContaining({ type: "text", text: "Hello from the" })]);
    expect(msg.stop_reason).toBe("end_turn");
    const echo = (msg as unknown as WithEcho).echo!;
    expect(echo.path).toBe("/v1/messages");
    expect(echo.body).toMatchObject({ model: "claude-e2e-latest", max_tokens: 64 });
    expect(echo.headers["anthropic-version"]).toBeString();
    expect(echo.headers["x-api-key"]).toBeUndefined();
  });

  test("messages.create with stream: true yields the named events in order", async () => {
    const stream = await client.messages.create({ model: "claude", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] });
    const types: string[] = [];
    let text = "";
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    }
    expect(text).toBe("Hello from the");
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
  });

  test("messages.stream() helper assembles the final message", async () => {
    const stream = client.messages.stream({ model: "claude", max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas).toEqual(["Hello", " from", " the"]);
    expect(final.content).toEqual([expect.objectContaining({ type: "text", text: "Hello from the" })]);
    expect(final.usage.output_tokens).toBe(3);
  });

  test("messages.countTokens answers input_tokens", async () => {
    const res = await client.messages.countTokens({ model: "claude", messages: [{ role: "user", content: "one two three" }] });
    expect(res.input_tokens).toBeGreaterThan(0);
    expect((res as unknown as WithEcho).echo?.path).toBe("/v1/messages/count_tokens");
  });

  test("a Bearer token (authToken) is accepted as well as x-api-key", async () => {
    const bearer = new Anthropic({ baseURL: s.url, apiKey: null, authToken: KEY, maxRetries: 0 });
    const msg = await bearer.messages.create({ model: "claude", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
    expect(msg.content[0]).toMatchObject({ type: "text" });
  });

  test("models.list() pages through the configured models", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["claude", "crashy", "slow"]);
  });

  test("an unknown model throws NotFoundError carrying modelswap's message", async () => {
    const err = await client.messages.create({ model: "nope", max_tokens: 8, messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as Error).message).toContain("Cannot find model: 'nope' is not configured");
  });

  test("a missing key throws AuthenticationError", async () => {
    const bad = new Anthropic({ baseURL: s.url, apiKey: "wrong", maxRetries: 0 });
    const err = await bad.messages.create({ model: "claude", max_tokens: 8, messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  test("a model over its concurrencyLimit throws RateLimitError", async () => {
    const held = new AbortController();
    const stream = await client.messages.create({ model: "slow", max_tokens: 8, stream: true, messages: [] }, { signal: held.signal });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    try {
      const err = await client.messages.create({ model: "slow", max_tokens: 8, messages: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    } finally {
      held.abort();
      await it.return?.();
    }
  });

  test("an upstream that dies mid-stream makes the SDK throw an APIError with modelswap's message", async () => {
    const stream = await client.messages.create({ model: "crashy", max_tokens: 8, stream: true, messages: [] });
    let text = "";
    const err = await (async () => {
      for await (const ev of stream) {
        if (ev.type !== "content_block_delta" || ev.delta.type !== "text_delta") continue;
        const first = text === "";
        text += ev.delta.text;
        // The first token is in: now the upstream dies (see crashFake for why not on its own clock).
        if (first) await crashFake(s.url, "crashy", { "x-api-key": KEY });
      }
    })().catch((e: unknown) => e);
    expect(text).toStartWith("Hello");
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as Error).message).toContain("Cannot finish response: the upstream stream failed");
  });
});
