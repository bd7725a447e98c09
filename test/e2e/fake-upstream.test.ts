/**
 * `modelswap fake-upstream` as a real process: the OpenAI/Anthropic answers
 * other tests rely on, and each of its failure knobs.
 */
import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { cleanupProcesses, isGone, startFakeUpstreamProcess, waitForUrl, waitGone } from "../helpers/processes.ts";

afterEach(cleanupProcesses);

const chat = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "m1", messages: [{ role: "user", content: "hi" }], ...body }),
  });

interface Frame {
  data: string;
  event?: string;
}

/** Reads an SSE body frame by frame; stops quietly if the connection breaks. */
async function readFrames(res: Response): Promise<{ frames: Frame[]; broken: boolean }> {
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: Frame = { data: "" };
        for (const line of raw.split("\n")) {
          if (line.startsWith("data: ")) frame.data += line.slice(6);
          else if (line.startsWith("event: ")) frame.event = line.slice(7);
        }
        frames.push(frame);
      }
    }
    return { frames, broken: false };
  } catch {
    return { frames, broken: true };
  }
}

/**
 * Every byte a server sent for one POST, read off a plain socket until it
 * closed (why not fetch: Bun's fetch drops body bytes it has not handed out
 * yet when the server dies, so a loaded test process saw fewer frames).
 */
function rawPost(url: string, path: string, body: unknown): Promise<string> {
  const { hostname, port } = new URL(url);
  const json = JSON.stringify(body);
  const request = `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
  return new Promise((resolve) => {
    let text = "";
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("error", () => {}); // a reset ends in "close" too
    socket.on("close", () => resolve(text));
  });
}

describe("fake-upstream answers like an OpenAI server", () => {
  test("a plain chat completion returns the tokens and echoes what it received", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "3"]);
    const res = await chat(up.url, { temperature: 0.5 }, { "x-trace": "abc", authorization: "Bearer k" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("m1");
    expect(body.choices[0].message).toEqual({ role: "assistant", content: "Hello from the" });
    expect(body.usage.completion_tokens).toBe(3);
    expect(body.echo).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "x-trace": "abc", authorization: "Bearer k", "content-type": "application/json" },
      body: { model: "m1", temperature: 0.5, messages: [{ role: "user", content: "hi" }] },
    });
    await up.stop();
  });

  test("a streamed chat completion sends one chunk per token, spaced out, then [DONE]", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "4", "--token-interval", "100ms"]);
    const { frames, broken } = await readFrames(await chat(up.url, { stream: true }));
    expect(broken).toBe(false);
    expect(frames.map((f) => f.data).at(-1)).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    expect(chunks).toHaveLength(5); // 4 tokens + finish
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe("Hello from the fake");
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(chunks[0].echo.body.stream).toBe(true);
    expect(chunks[1].echo).toBeUndefined();
    await up.stop();
  });

  test("streams, not buffers: the first chunk arrives while the next token is an hour away", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "2", "--token-interval", "1h"]);
    const client = new AbortController();
    const res = await chat(up.url, { stream: true }, {}, client.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Stream ended before its first frame: got ${JSON.stringify(text)}`);
      text += decoder.decode(value, { stream: true });
    }
    expect(JSON.parse(text.slice(6, text.indexOf("\n\n"))).choices[0].delta.role).toBe("assistant");
    client.abort();
    await up.stop();
  });

  test("the model comes from --model when given", async () => {
    const up = await startFakeUpstreamProcess(["--model", "fixed"]);
    expect(((await (await chat(up.url, {})).json()) as any).model).toBe("fixed");
    expect(((await (await fetch(`${up.url}/v1/models`)).json()) as any).data[0].id).toBe("fixed");
    await up.stop();
  });

  test("legacy completions, embeddings, and include_usage", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "2", "--token-interval", "0"]);
    const post = (path: string, body: unknown) =>
      fetch(`${up.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const legacy = (await (await post("/v1/completions", { model: "c", prompt: "x" })).json()) as any;
    expect(legacy.choices[0].text).toBe("Hello from");
    const { frames } = await readFrames(await post("/v1/completions", { model: "c", prompt: "x", stream: true }));
    expect(frames.slice(0, -1).map((f) => JSON.parse(f.data).choices[0].text).join("")).toBe("Hello from");
    const emb = (await (await post("/v1/embeddings", { model: "e", input: ["a", "bb"] })).json()) as any;
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0].embedding).toHaveLength(8);
    const b64 = (await (await post("/v1/embeddings", { model: "e", input: ["a", "bb"], encoding_format: "base64" })).json()) as any;
    const bytes = Buffer.from(b64.data[1].embedding as string, "base64");
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toEqual(emb.data[1].embedding.map((v: number) => Math.fround(v)));
    const withUsage = await readFrames(await chat(up.url, { stream: true, stream_options: { include_usage: true } }));
    expect(JSON.parse(withUsage.frames.at(-2)!.data).usage.completion_tokens).toBe(2);
    await up.stop();
  });

  test("Anthropic /v1/messages streams the named events the SDK expects", async () => {
    const up = await startFakeUpstreamProcess(["--tokens", "2", "--token-interval", "0"]);
    const res = await fetch(`${up.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-x", max_tokens: 10, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const { frames } = await readFrames(res);
    expect(frames.map((f) => f.event)).toEqual([
      "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
      "content_block_stop", "message_delta", "message_stop",
    ]);
    expect(JSON.parse(frames[0]!.data).echo.headers["anthropic-version"]).toBe("2023-06-01");
    await up.stop();
  });

  test("any other path answers with a JSON echo, multipart summarised", async () => {
    const up = await startFakeUpstreamProcess();
    const form = new FormData();
    form.append("model", "whisper");
    form.append("file", new File([new Uint8Array(1234)], "a.wav", { type: "audio/wav" }));
    const body = (await (await fetch(`${up.url}/v1/audio/transcriptions?lang=en`, { method: "POST", body: form })).json()) as any;
    expect(body.model).toBe("whisper");
    expect(body.echo.query).toEqual({ lang: "en" });
    expect(body.echo.body.fields).toMatchObject({ model: "whisper", file: { filename: "a.wav", size: 1234 } });
    const text = (await (await fetch(`${up.url}/anything`, { method: "PUT", body: "plain text" })).json()) as any;
    expect(text.echo).toMatchObject({ method: "PUT", path: "/anything", body: "plain text" });
    await up.stop();
  });
});

describe("fake-upstream knobs", () => {
  test("--start-delay opens the port at once but answers 503 until the delay has passed", async () => {
    const up = await startFakeUpstreamProcess(["--start-delay", "2s"]);
    expect((await fetch(`${up.url}/health`)).status).toBe(503);
    expect((await chat(up.url, {})).status).toBe(503);
    await waitForUrl(`${up.url}/health`, { timeoutMs: 10_000 });
    expect((await chat(up.url, {})).status).toBe(200);
    await up.stop();
  });

  test("--health-fail always answers /health with 503 while the API works", async () => {
    const up = await startFakeUpstreamProcess(["--health-fail"]);
    for (let i = 0; i < 3; i++) expect((await fetch(`${up.url}/health`)).status).toBe(503);
    expect((await chat(up.url, {})).status).toBe(200);
    await up.stop();
  });

  test("--error-status 400 answers every API request with llama-server's error body, /health stays 200", async () => {
    const up = await startFakeUpstreamProcess(["--error-status", "400"]);
    expect((await fetch(`${up.url}/health`)).status).toBe(200);
    for (const stream of [false, true]) {
      const res = await chat(up.url, { stream });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 400, message: "fake-upstream: answering 400 as told (--error-status)", type: "invalid_request_error" } });
    }
    await up.stop();
  });

  test("--exit-after-requests 2 completes the first request, then dies in the middle of the second stream", async () => {
    const up = await startFakeUpstreamProcess(["--exit-after-requests", "2", "--tokens", "6", "--token-interval", "20ms"]);
    expect((await chat(up.url, {})).status).toBe(200);
    const raw = await rawPost(up.url, "/v1/chat/completions", { model: "m1", stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(raw).toStartWith("HTTP/1.1 200");
    // Half of the six tokens, each written out before the exit; then no [DONE] and no last chunk: cut, not ended.
    expect(raw.split("\n").filter((l) => l.startsWith("data: ")).length).toBe(3);
    expect(raw).not.toContain("[DONE]");
    expect(raw).not.toEndWith("\r\n0\r\n\r\n");
    expect(await up.waitForExit()).toBe(1);
    await waitGone(up.pid);
  });

  test("--exit-after-requests 1 cuts a plain response in half and exits 1", async () => {
    const up = await startFakeUpstreamProcess(["--exit-after-requests", "1"]);
    const raw = await rawPost(up.url, "/v1/chat/completions", { model: "m1", messages: [{ role: "user", content: "hi" }] });
    expect(raw).toStartWith("HTTP/1.1 200");
    // One chunk with the first half of the JSON, and no last chunk.
    const [, size, half] = /\r\n\r\n([0-9a-f]+)\r\n([^]*)\r\n$/.exec(raw) ?? [];
    expect(half).toStartWith('{"id":"chatcmpl-');
    expect(half!.length).toBe(Number.parseInt(size!, 16));
    expect(() => JSON.parse(half!)).toThrow();
    expect(await up.waitForExit()).toBe(1);
    await waitGone(up.pid);
  });

  test("SIGTERM stops it cleanly", async () => {
    const up = await startFakeUpstreamProcess();
    up.proc.kill("SIGTERM");
    expect(await up.waitForExit()).toBe(0);
    await waitGone(up.pid);
  });

  test("--ignore-sigterm survives SIGTERM; SIGKILL ends it", async () => {
    const up = await startFakeUpstreamProcess(["--ignore-sigterm"]);
    up.proc.kill("SIGTERM");
    await up.waitForOutput(/ignoring SIGTERM/);
    expect((await fetch(`${up.url}/health`)).status).toBe(200);
    expect(isGone(up.pid)).toBe(false);
    up.proc.kill("SIGKILL");
    await waitGone(up.pid);
  });
});
