/**
 * The HTTP front against the real scheduler Worker and real fake-upstream
 * model processes: loading state, streaming, release on client abort, and
 * nothing left running afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { type ApiServer, startApiServer } from "./api-harness.ts";
import { postChat } from "../helpers/chat.ts";

let s: ApiServer;
let url = "";

beforeAll(async () => {
  s = await startApiServer((fake) =>
    [
      "models:",
      "  loading:",
      `    cmd: ${fake("--tokens 3 --token-interval 20ms --start-delay 300ms")}`,
      "    sendLoadingState: true",
      "    aliases: [gpt]",
      "  endless:",
      `    cmd: ${fake("--tokens 100000 --token-interval 20ms")}`,
      "    concurrencyLimit: 1",
      "",
    ].join("\n"),
  );
  url = s.url;
});

// Stops modelswap and proves every model process went with it.
afterAll(() => s?.stop());

const chat = (model: string, signal?: AbortSignal) => postChat(url, model, { stream: true, ...(signal ? { signal } : {}) });

describe("through the real scheduler", () => {
  test("a cold model streams loading progress, then the tokens, in one 200 response", async () => {
    const res = await chat("gpt");
    expect(res.status).toBe(200);
    const text = await res.text();
    const frames = text.split("\n\n").filter(Boolean).map((f) => f.replace(/^data: /, ""));
    expect(JSON.parse(frames[0] ?? "")).toEqual({ choices: [{ index: 0, delta: { reasoning_content: "━━━━━\n" } }] });
    expect(text).toContain("modelswap loading model: loading");
    expect(text).toContain("Done! (");
    expect(frames.at(-1)).toBe("[DONE]");
    const tokens = frames.filter((f) => f.includes('"content"')).map((f) => JSON.parse(f) as { echo?: { body: { model: string } }; choices: Array<{ delta: { content?: string } }> });
    expect(tokens.map((t) => t.choices[0]?.delta.content ?? "").join("")).toBe("Hello from the");
    // As in llama-swap, the upstream sees the name the client asked for.
    expect(tokens[0]?.echo?.body.model).toBe("gpt");
    const running = (await (await fetch(`${url}/running`)).json()) as { running: Array<{ model: string; state: string }> };
    expect(running.running).toContainEqual(expect.objectContaining({ model: "loading", state: "ready" }));
  });

  test("a client that leaves mid-stream releases its slot (concurrencyLimit 1 admits the next one)", async () => {
    for (let i = 0; i < 3; i++) {
      const client = new AbortController();
      const res = await chat("endless", client.signal);
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      while (!seen.includes('"content"')) {
        const r = await reader.read();
        if (r.done) throw new Error(`Stream ended early: ${seen}`);
        seen += new TextDecoder().decode(r.value);
      }
      client.abort();
      await reader.cancel().catch(() => {});
    }
    const status = await poll(
      async () => {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "endless", max_tokens: 1, messages: [] }),
          signal: AbortSignal.timeout(200),
        }).catch(() => null);
        await res?.body?.cancel().catch(() => {});
        return res && res.status !== 429 ? res.status : undefined;
      },
      20,
      { signal: AbortSignal.timeout(5000) },
    );
    expect(status).toBe(200);
  });
});
