/**
 * llama-swap's routes a user's tools call, end to end against real
 * fake-upstream models: `/v/...` and `/audioapi/...` (prefix stripped before
 * forwarding), `/comfyui/...`, `GET /unload`, `GET /upstream`, `GET /`,
 * `/wol-health`, `/favicon.ico`; and `cors.allowOrigins`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiServer, echoOf, postJson, startApiServer } from "./api-harness.ts";

let s: ApiServer;
beforeAll(async () => {
  s = await startApiServer((fake) => `models:\n  m:\n    cmd: ${fake()}\n  comfyui_auto:\n    cmd: ${fake()}\n`);
});
afterAll(() => s.stop());

const chatBody = { model: "m", messages: [{ role: "user", content: "hi" }] };

describe("prefixed routes are forwarded without their prefix", () => {
  test.each([
    ["/v/chat/completions", "/chat/completions"],
    ["/v/completions", "/completions"],
    ["/v/responses", "/responses"],
    ["/v/embeddings", "/embeddings"],
    ["/v/messages", "/messages"],
    ["/v/messages/count_tokens", "/messages/count_tokens"],
    ["/v/rerank", "/rerank"],
    ["/v/reranking", "/reranking"],
    ["/audioapi/v1/tasks/run", "/v1/tasks/run"],
  ])("POST %s reaches the model as %s", async (path, upstreamPath) => {
    const echo = await echoOf(await postJson(s.url, path, { ...chatBody, input: "x" }));
    expect(echo.path).toBe(upstreamPath);
    expect(echo.body.model).toBe("m");
  });

  test("the query string is kept", async () => {
    const echo = await echoOf(await postJson(s.url, "/v/chat/completions?a=1", chatBody));
    expect(echo.query).toEqual({ a: "1" });
  });
});

describe("operations routes", () => {
  test("GET /unload stops every model and answers OK", async () => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", chatBody));
    expect(s.modelPids().length).toBeGreaterThan(0);
    const res = await fetch(`${s.url}/unload`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
    expect(((await (await fetch(`${s.url}/running`)).json()) as { running: unknown[] }).running).toEqual([]);
  });

  test.each([
    ["/upstream", 302, "/ui/"],
    ["/", 302, "/ui"],
  ])("GET %s redirects (%d) to %s", async (path, status, location) => {
    const res = await fetch(`${s.url}${path}`, { redirect: "manual" });
    expect(res.status).toBe(status);
    expect(res.headers.get("location")).toBe(location);
  });

  test("GET /wol-health answers OK", async () => {
    const res = await fetch(`${s.url}/wol-health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  test("GET /favicon.ico is an ICO image", async () => {
    const res = await fetch(`${s.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/x-icon");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0, 0, 1, 0]); // ICONDIR: reserved 0, type 1 (icon)
    expect(bytes[6]).toBe(16); // one 16-pixel-wide image
  });
});

describe("/comfyui/ (llama-swap's passthrough to comfyui_auto)", () => {
  test("/comfyui redirects to /comfyui/ keeping the query: 301 for GET, 308 for POST", async () => {
    const get = await fetch(`${s.url}/comfyui?tab=1`, { redirect: "manual" });
    expect(get.status).toBe(301);
    expect(get.headers.get("location")).toBe("/comfyui/?tab=1");
    const post = await fetch(`${s.url}/comfyui`, { method: "POST", redirect: "manual" });
    expect(post.status).toBe(308);
  });

  test("a sub-path does not start the model: 409 while comfyui_auto is not loaded", async () => {
    await fetch(`${s.url}/unload`);
    const res = await fetch(`${s.url}/comfyui/api/queue`);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("not_running");
    expect(body.error.message).toBe("Cannot serve /comfyui/api/queue: the model 'comfyui_auto' is not loaded, and only /comfyui/ starts it");
  });

  test("/comfyui/ starts it; then sub-paths are forwarded with /comfyui stripped", async () => {
    const root = await echoOf(await fetch(`${s.url}/comfyui/`));
    expect(root.path).toBe("/");
    const sub = await echoOf(await fetch(`${s.url}/comfyui/api/prompt?x=2`, { method: "POST", body: "{}" }));
    expect(sub.path).toBe("/api/prompt");
    expect(sub.query).toEqual({ x: "2" });
  });
});
