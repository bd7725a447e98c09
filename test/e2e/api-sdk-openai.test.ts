/**
 * The official `openai` npm client, unchanged, against a real modelswap and
 * real fake-upstream models: chat, completions, embeddings and responses,
 * streaming and not, the model list, and errors mapped to the SDK's classes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { type ApiServer, crashFake, type Echo, startApiServer } from "./api-harness.ts";

const KEY = "sk-openai-e2e";
let s: ApiServer;
let client: OpenAI;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `apiKeys: ["${KEY}"]
models:
  chat:
    cmd: ${fake()}
    aliases: [gpt-4o-mini]
  slow:
    cmd: ${fake("--tokens 100000 --token-interval 20ms")}
    concurrencyLimit: 1
  crashy:
    cmd: ${fake("--tokens 1000 --token-interval 20ms --exit-after-requests 2")}
  broken:
    cmd: ${fake("--no-such-flag")}
    sendLoadingState: true
  loading:
    cmd: ${fake("--tokens 3 --token-interval 0 --start-delay 300ms")}
    sendLoadingState: true
groups:
  all:
    swap: false
    members: [chat, slow, crashy, broken, loading]
`,
  );
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: KEY, maxRetries: 0 });
});

afterAll(() => s.stop());

type WithEcho = { echo?: Echo };

describe("the OpenAI SDK", () => {
  test("chat.completions.create answers, and the upstream saw the SDK's body with the key stripped", async () => {
    const res = await client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }], temperature: 0.5 });
    expect(res.choices[0]?.message.content).toBe("Hello from the");
    const echo = (res as unknown as WithEcho).echo!;
    expect(echo.path).toBe("/v1/chat/completions");
    expect(echo.body).toMatchObject({ model: "chat", temperature: 0.5, messages: [{ role: "user", content: "hi" }] });
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["user-agent"]).toContain("OpenAI");
  });

  test("chat.completions.create with stream: true yields the tokens, then usage", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hi" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Hello from the");
    expect(usage?.completion_tokens).toBe(3);
  });

  test("chat.completions.stream() helper collects the final message", async () => {
    const runner = client.chat.completions.stream({ model: "chat", messages: [{ role: "user", content: "hi" }] });
    const done = await runner.finalChatCompletion();
    expect(done.choices[0]?.message.content).toBe("Hello from the");
  });

  test.each([false, true])("completions.create (stream %p)", async (stream) => {
    if (stream) {
      const out = await client.completions.create({ model: "chat", prompt: "Say", stream: true });
      let text = "";
      for await (const c of out) text += c.choices[0]?.text ?? "";
      expect(text).toBe("Hello from the");
    } else {
      const out = await client.completions.create({ model: "chat", prompt: "Say" });
      expect(out.choices[0]?.text).toBe("Hello from the");
      expect((out as unknown as WithEcho).echo?.body.prompt).toBe("Say");
    }
  });

  test("embeddings.create returns one vector per input", async () => {
    const res = await client.embeddings.create({ model: "chat", input: ["a", "bb"], encoding_format: "float" });
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    expect(res.data[0]?.embedding).toHaveLength(8);
  });

  test("embeddings.create with the SDK's default (base64) decodes to the same floats, at float32 precision", async () => {
    const floats = await client.embeddings.create({ model: "chat", input: ["a", "bb"], encoding_format: "float" });
    const decoded = await client.embeddings.create({ model: "chat", input: ["a", "bb"] });
    expect(decoded.data).toHaveLength(2);
    for (const [i, d] of decoded.data.entries()) {
      const want = floats.data[i]!.embedding.map((v) => Math.fround(v));
      expect(d.embedding).toEqual(want);
      expect(want.some((v) => v !== 0)).toBe(true);
    }
  });

  test("responses.create answers with output_text", async () => {
    const res = await client.responses.create({ model: "chat", input: "hi" });
    expect(res.output_text).toBe("Hello from the");
    expect((res as unknown as WithEcho).echo?.path).toBe("/v1/responses");
  });

  test("responses.create with stream: true yields text deltas and a completed event", async () => {
    const stream = await client.responses.create({ model: "chat", input: "hi", stream: true });
    let text = "";
    const types: string[] = [];
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
    }
    expect(text).toBe("Hello from the");
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
  });

  test("models.list() lists the configured models, sorted", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["broken", "chat", "crashy", "loading", "slow"]);
  });

  test("an unknown model throws NotFoundError carrying modelswap's message", async () => {
    const err = await client.chat.completions.create({ model: "nope", messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("Cannot find model: 'nope' is not configured");
  });

  test("a wrong key throws AuthenticationError", async () => {
    const bad = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    const err = await bad.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  test("a model over its concurrencyLimit throws RateLimitError", async () => {
    const held = new AbortController();
    const stream = await client.chat.completions.create({ model: "slow", stream: true, messages: [] }, { signal: held.signal });
    const it = stream[Symbol.asyncIterator]();
    await it.next(); // The slot is taken once the first chunk arrives.
    try {
      const err = await client.chat.completions.create({ model: "slow", messages: [] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    } finally {
      held.abort();
      await it.return?.();
    }
  });

  test("a cold model with sendLoadingState streams reasoning_content progress, then the real tokens", async () => {
    const stream = await client.chat.completions.create({ model: "loading", stream: true, messages: [{ role: "user", content: "hi" }] });
    let reasoning = "";
    let content = "";
    let contentStarted = false;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      if (delta?.reasoning_content) {
        expect(contentStarted).toBe(false);
        reasoning += delta.reasoning_content;
      }
      if (delta?.content) {
        contentStarted = true;
        content += delta.content;
      }
    }
    expect(reasoning).toContain("loading model: loading");
    expect(reasoning).toContain("Done! (");
    expect(content).toBe("Hello from the");
  });

  test("a warm model with sendLoadingState streams no progress", async () => {
    const stream = await client.chat.completions.create({ model: "loading", stream: true, messages: [] });
    const deltas: unknown[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta);
    expect(JSON.stringify(deltas)).not.toContain("reasoning_content");
  });

  test("the SDK's stream() helper accepts the loading progress frames of a cold model", async () => {
    await fetch(`${s.url}/api/models/unload/loading`, { method: "POST", headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.text());
    const runner = client.chat.completions.stream({ model: "loading", messages: [{ role: "user", content: "hi" }] });
    const done = await runner.finalChatCompletion();
    expect(done.choices[0]?.message.content).toBe("Hello from the");
  });

  test("an upstream that dies mid-stream makes the SDK throw an APIError with modelswap's message", async () => {
    const stream = await client.chat.completions.create({ model: "crashy", stream: true, messages: [] });
    let text = "";
    const err = await (async () => {
      for await (const chunk of stream) {
        const first = text === "";
        text += chunk.choices[0]?.delta.content ?? "";
        // The first token is in: now the upstream dies (see crashFake for why not on its own clock).
        if (first && text !== "") await crashFake(s.url, "crashy", { authorization: `Bearer ${KEY}` });
      }
    })().catch((e: unknown) => e);
    expect(text).toStartWith("Hello");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("Cannot finish response: the upstream stream failed");
  });

  test("audio.transcriptions.create sends its multipart upload through, file intact", async () => {
    const file = await toFile(new Uint8Array(3000), "speech.wav", { type: "audio/wav" });
    const res = await client.audio.transcriptions.create({ model: "gpt-4o-mini", file, language: "en" });
    const echo = (res as unknown as WithEcho).echo!;
    expect(echo.path).toBe("/v1/audio/transcriptions");
    expect(echo.body.fields).toMatchObject({ model: "gpt-4o-mini", language: "en", file: { filename: "speech.wav", size: 3000 } });
  });

  test("images.edit sends its multipart upload through", async () => {
    const image = await toFile(new Uint8Array(1000), "in.png", { type: "image/png" });
    const res = await client.images.edit({ model: "chat", image, prompt: "a cat" });
    expect((res as unknown as WithEcho).echo?.body.fields).toMatchObject({ model: "chat", prompt: "a cat", image: { filename: "in.png", size: 1000 } });
  });

  test.each([
    ["images.generate", () => client.images.generate({ model: "chat", prompt: "a cat" }), "/v1/images/generations"],
    ["audio.speech.create", () => client.audio.speech.create({ model: "chat", voice: "alloy", input: "hi" }).then((r) => r.json()), "/v1/audio/speech"],
  ] as const)("%s reaches the model", async (_, call, path) => {
    expect(((await call()) as unknown as WithEcho).echo?.path).toBe(path);
  });

  test("a model that fails to start while showing loading state makes the SDK stream throw the start error", async () => {
    const stream = await client.chat.completions.create({ model: "broken", stream: true, messages: [] });
    let reasoning = "";
    const err = await (async () => {
      for await (const chunk of stream) reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string }).reasoning_content ?? "";
    })().catch((e: unknown) => e);
    expect(reasoning).toContain("loading model: broken");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("Cannot start model");
  });
});
