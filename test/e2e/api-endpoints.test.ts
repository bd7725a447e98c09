/**
 * Every model-routed endpoint family, end to end: the model named in a JSON
 * body, a multipart field (streamed, and over the limit) or `?model=`, and
 * `/upstream/<model>/…`; each asserted on what the fake upstream received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiServer, echoOf, postJson, startApiServer } from "./api-harness.ts";

const LIMIT = 64 * 1024;
let s: ApiServer;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `maxUploadBytes: ${LIMIT}
upstream:
  ignorePaths: ["^/static/"]
models:
  m:
    cmd: ${fake()}
    aliases: [m-alias]
  cold:
    cmd: ${fake()}
groups:
  all:
    swap: false
    members: [m, cold]
`,
  );
});

afterAll(() => s.stop());

describe("JSON body names the model", () => {
  test.each([
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/rerank",
    "/v1/reranking",
    "/rerank",
    "/reranking",
    "/infill",
    "/completion",
    "/v1/audio/speech",
    "/v1/images/generations",
    "/sdapi/v1/txt2img",
    "/sdapi/v1/img2img",
  ])("POST %s reaches the model with the body byte for byte", async (path) => {
    const sent = `{"model":"m-alias",  "marker":"${path}","nested":{"a":[1,2]}}`;
    const res = await fetch(`${s.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-custom": "kept" }, body: sent });
    const echo = await echoOf(res);
    expect(echo.path).toBe(path);
    expect(echo.method).toBe("POST");
    expect(echo.body).toEqual(JSON.parse(sent));
    expect(echo.headers["content-length"]).toBe(String(sent.length));
    expect(echo.headers["x-custom"]).toBe("kept");
  });

  test("the query string goes along", async () => {
    const res = await fetch(`${s.url}/v1/chat/completions?debug=1&x=y`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m"}' });
    expect((await echoOf(res)).query).toEqual({ debug: "1", x: "y" });
  });

  test.each([
    ["no model", 400, {}],
    ["an unknown model", 404, { model: "nope" }],
  ] as const)("%s is answered %p in OpenAI's error shape", async (_, status, body) => {
    const res = await postJson(s.url, "/v1/chat/completions", body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { message: string; type: string } };
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.message).toStartWith("Cannot");
  });

  test("invalid JSON is 400", async () => {
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});

/** A multipart body as a stream of chunks: fields first, then a file sent in `pieces` parts. */
function streamedForm(boundary: string, fields: Record<string, string>, fileSize: number, pieces: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(enc.encode(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(enc.encode(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\n`));
  const piece = Math.ceil(fileSize / pieces);
  for (let sent = 0; sent < fileSize; sent += piece) parts.push(new Uint8Array(Math.min(piece, fileSize - sent)).fill(0x61));
  parts.push(enc.encode(`\r\n--${boundary}--\r\n`));
  let i = 0;
  return new ReadableStream({
    async pull(c) {
      if (i >= parts.length) return c.close();
      await Promise.resolve();
      c.enqueue(parts[i++]!);
    },
  });
}

describe("multipart form names the model", () => {
  test.each(["/v1/audio/transcriptions", "/v1/images/edits"])("POST %s (FormData) reaches the model, file intact", async (path) => {
    const form = new FormData();
    form.append("model", "m-alias");
    form.append("language", "en");
    form.append("file", new Blob([new Uint8Array(5000)], { type: "audio/wav" }), "a.wav");
    const echo = await echoOf(await fetch(`${s.url}${path}`, { method: "POST", body: form }));
    expect(echo.path).toBe(path);
    expect(echo.body.fields).toEqual({ model: "m-alias", language: "en", file: expect.objectContaining({ filename: "a.wav", size: 5000 }) });
  });

  test("a streamed upload without Content-Length passes through whole", async () => {
    const boundary = "e2e-stream-boundary";
    const body = streamedForm(boundary, { model: "m", response_format: "json" }, 40_000, 10);
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: "half",
    } as RequestInit);
    const echo = await echoOf(res);
    expect(echo.headers["content-length"]).toBeUndefined();
    expect(echo.body.fields).toEqual({ model: "m", response_format: "json", file: expect.objectContaining({ filename: "a.wav", size: 40_000 }) });
  });

  test("an upload over maxUploadBytes with Content-Length is 413 before anything is read", async () => {
    const form = new FormData();
    form.append("model", "m");
    form.append("file", new Blob([new Uint8Array(LIMIT + 1)]), "big.wav");
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
  });

  test("a streamed upload that grows past maxUploadBytes is 413", async () => {
    const boundary = "e2e-big-boundary";
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: streamedForm(boundary, { model: "m" }, LIMIT * 2, 16),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    await res.body?.cancel();
  });

  test("a form without a model field is 400", async () => {
    const form = new FormData();
    form.append("file", new Blob(["x"]), "a.wav");
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});

describe("?model= names the model", () => {
  test.each(["/v1/audio/voices", "/props", "/sdapi/v1/loras"])("GET %s reaches the model with its query", async (path) => {
    const echo = await echoOf(await fetch(`${s.url}${path}?model=m-alias&extra=1`));
    expect(echo.method).toBe("GET");
    expect(echo.path).toBe(path);
    expect(echo.query).toEqual({ model: "m-alias", extra: "1" });
  });

  test("GET without ?model= is 400", async () => {
    const res = await fetch(`${s.url}/props`);
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});

describe("/upstream/<model>/…", () => {
  test.each([
    ["GET", 301],
    ["POST", 308],
  ] as const)("%s /upstream/m redirects (%p) to the trailing slash, query kept", async (method, status) => {
    const res = await fetch(`${s.url}/upstream/m?x=1`, { method, redirect: "manual" });
    expect(res.status).toBe(status);
    expect(res.headers.get("location")).toBe("/upstream/m/?x=1");
  });

  test("any method and path pass through with the model prefix removed", async () => {
    const res = await fetch(`${s.url}/upstream/m-alias/api/thing?q=2`, { method: "PUT", headers: { "content-type": "text/plain" }, body: "raw body" });
    const echo = await echoOf(res);
    expect(echo).toMatchObject({ method: "PUT", path: "/api/thing", query: { q: "2" }, body: "raw body" });
  });

  test("an ignored path does not start a stopped model: 409", async () => {
    await fetch(`${s.url}/api/models/unload/cold`, { method: "POST" }).then((r) => r.text());
    const res = await fetch(`${s.url}/upstream/cold/static/app.js`);
    expect(res.status).toBe(409);
    await res.body?.cancel();
    const running = (await (await fetch(`${s.url}/running`)).json()) as { running: Array<{ model: string }> };
    expect(running.running.map((r) => r.model)).not.toContain("cold");
  });

  test("an ignored path reaches a model that is already running", async () => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", { model: "cold" }));
    const echo = await echoOf(await fetch(`${s.url}/upstream/cold/static/app.js`));
    expect(echo.path).toBe("/static/app.js");
  });

  test("an unknown model in the path is 404", async () => {
    const res = await fetch(`${s.url}/upstream/nope/x`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
