/**
 * `sendLoadingState` keeps every error's type and code: once the loading
 * chunks went out the status is 200, so the error travels in the SSE error
 * event, and that event carries the upstream's own error body and status
 * (an upstream 400), `upstream_error` (an upstream that dies mid-stream) or
 * `shutting_down` (a drain while the model loads), never `internal`.
 * Found against a real llama-server (issue 13), checked here with the fake.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { poll } from "../../src/lib/async.ts";
import { type ApiServer, crashFake, startApiServer, textReader } from "./api-harness.ts";
import { lastEventData } from "./swap-harness.ts";
import { postChat } from "../helpers/chat.ts";

let s: ApiServer;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `shutdownTimeout: 1
models:
  refuses:
    cmd: ${fake("--error-status 400 --start-delay 300ms")}
    sendLoadingState: true
  dies:
    cmd: ${fake("--start-delay 300ms --tokens 1000 --token-interval 20ms --exit-after-requests 2")}
    sendLoadingState: true
  endless:
    cmd: ${fake("--start-delay 60s")}
    sendLoadingState: true
groups:
  all:
    swap: false
    members: [refuses, dies, endless]
`,
  );
});
afterAll(() => s?.stop());

const streamChat = (model: string) => postChat(s.url, model, { stream: true });

describe("sendLoadingState errors after the 200", () => {
  test("an upstream 400: the error event carries the upstream's own error body and status", async () => {
    const res = await streamChat("refuses");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("modelswap loading model: refuses");
    expect(text).toContain("event: error\n");
    expect(lastEventData(text)).toEqual({
      type: "error",
      status: 400,
      error: { code: 400, message: "fake-upstream: answering 400 as told (--error-status)", type: "invalid_request_error" },
    } as never);
  });

  test("the OpenAI SDK raises the upstream's message from that event", async () => {
    await fetch(`${s.url}/api/models/unload/refuses`, { method: "POST" }).then((r) => r.body?.cancel());
    await poll(async () => ((await (await fetch(`${s.url}/running`)).text()).includes('"refuses"') ? undefined : true), 20, {
      signal: AbortSignal.timeout(10_000),
    });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const err = await (async () => {
      const stream = await client.chat.completions.create({ model: "refuses", stream: true, messages: [{ role: "user", content: "hi" }] });
      for await (const _ of stream) {
        // Loading chunks, then the error.
      }
    })().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain("fake-upstream: answering 400 as told (--error-status)");
  });

  test("an upstream that dies mid-stream: upstream_error, not internal", async () => {
    const res = await streamChat("dies");
    expect(res.status).toBe(200);
    const reader = textReader(res);
    await reader.until((t) => t.includes('"content":"Hello"'));
    // The first token is in: now the upstream dies (see crashFake for why not on its own clock).
    await crashFake(s.url, "dies");
    const text = await reader.rest();
    expect(text).not.toContain("[DONE]");
    const { error } = lastEventData(text);
    expect(error?.code).toBe("upstream_error");
    expect(error?.type).toBe("server_error");
    expect(error?.message).toStartWith("Cannot finish response: the upstream stream failed");
  });

  test("a drain while the model loads: shutting_down, not internal", async () => {
    const res = await streamChat("endless");
    expect(res.status).toBe(200);
    const reader = textReader(res);
    await reader.until((t) => t.includes("modelswap loading model: endless"));
    s.proc.proc.kill("SIGTERM");
    const text = await reader.rest();
    const { error } = lastEventData(text);
    expect(error?.code).toBe("shutting_down");
    expect(error?.type).toBe("server_error");
    expect(await s.proc.waitForExit(20_000)).toBe(0);
  });
});
