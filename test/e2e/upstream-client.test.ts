/**
 * The two ways a request reaches a model server (the pooled HTTP/1.1 client,
 * and Bun's fetch with MODELSWAP_UPSTREAM_CLIENT=fetch) give clients the same
 * answers: a small JSON answer, a stream, a large body both ways, an upstream
 * error status, and a HEAD-less GET with a query.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiServer, echoOf, postJson, sseData, startApiServer } from "./api-harness.ts";

const config = (fake: (args?: string) => string) =>
  ["models:", "  chat:", `    cmd: ${fake("--tokens 4 --token-interval 0")}`, "    concurrencyLimit: 100", "  failing:", `    cmd: ${fake("--error-status 400")}`, ""].join("\n");

const servers: Record<string, ApiServer> = {};
beforeAll(async () => {
  servers.pooled = await startApiServer(config);
  servers.fetch = await startApiServer(config, [], { MODELSWAP_UPSTREAM_CLIENT: "fetch" });
});
afterAll(async () => {
  for (const s of Object.values(servers)) await s.stop();
});

describe.each(["pooled", "fetch"])("through the %s client", (which) => {
  const url = () => servers[which]!.url;

  test("a small JSON answer arrives with the request's body, path and headers as sent", async () => {
    const echo = await echoOf(await postJson(url(), "/v1/chat/completions?x=1", { model: "chat", messages: [] }, { "x-custom": "kept" }));
    expect(echo).toMatchObject({ method: "POST", path: "/v1/chat/completions", query: { x: "1" }, body: { model: "chat", messages: [] } });
    expect(echo.headers["x-custom"]).toBe("kept");
  });

  test("a stream arrives chunk by chunk and ends with [DONE]", async () => {
    const res = await postJson(url(), "/v1/chat/completions", { model: "chat", stream: true, messages: [] });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.length).toBeGreaterThan(4);
  });

  test("a 4 MB request body reaches the model whole and its 4 MB echo comes back", async () => {
    const content = "y".repeat(4 * 1024 * 1024);
    const echo = await echoOf(await postJson(url(), "/v1/embeddings", { model: "chat", input: content }));
    expect((echo.body.input as string).length).toBe(content.length);
  });

  test("an upstream error status and body reach the client as the model sent them", async () => {
    const res = await postJson(url(), "/v1/chat/completions", { model: "failing", messages: [] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(400);
  });

  test("many requests at once all get their own answer", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => postJson(url(), "/v1/chat/completions", { model: "chat", n: i, messages: [] }).then((r) => echoOf(r))),
    );
    expect(answers.map((e) => e.body.n)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
