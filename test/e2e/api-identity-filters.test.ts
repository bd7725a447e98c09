/**
 * Model identity and body filters end to end: aliases, `useModelName` (JSON
 * and multipart), and llama-swap's filter order useModelName → stripParams →
 * setParams → setParamsByID with `model` never stripped or set, asserted on
 * the bytes the fake upstream received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiServer, echoOf, postJson, startApiServer } from "./api-harness.ts";
import { SCAN_FROM_BYTES } from "../../src/http/edge/body.ts";

let s: ApiServer;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `models:
  plain:
    cmd: ${fake()}
    aliases: [plain-alias]
  renamed:
    cmd: ${fake()}
    aliases: [renamed-alias]
    useModelName: org/upstream-name
  filtered:
    cmd: ${fake()}
    useModelName: served-name
    filters:
      stripParams: "temperature, top_p, model, stop"
      setParams:
        temperature: 0.2
        max_tokens: 100
        model: hijacked
        nested: { a: 1 }
      setParamsByID:
        "\${MODEL_ID}:fast":
          max_tokens: 7
          model: hijacked-too
          reasoning_effort: low
  tuned:
    cmd: ${fake()}
    filters:
      setParamsByID:
        "tuned:hot":
          temperature: 1.5
groups:
  all:
    swap: false
    members: [plain, renamed, filtered, tuned]
`,
  );
});

afterAll(() => s.stop());

const chat = (model: string, extra: Record<string, unknown> = {}) => postJson(s.url, "/v1/chat/completions", { model, messages: [], ...extra });

describe("which name the upstream sees", () => {
  test.each([
    ["plain", "plain"],
    ["plain-alias", "plain-alias"],
    ["renamed", "org/upstream-name"],
    ["renamed-alias", "org/upstream-name"],
    ["tuned:hot", "tuned:hot"],
  ])("JSON model %p arrives as %p", async (requested, seen) => {
    expect((await echoOf(await chat(requested))).body.model).toBe(seen);
  });

  test("an alias is never rewritten, so the body goes through byte for byte", async () => {
    const sent = '{"model":"plain-alias" ,"messages":[]}';
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: sent });
    expect((await echoOf(res)).headers["content-length"]).toBe(String(sent.length));
  });

  test.each([
    ["plain-alias", "plain-alias"],
    ["renamed-alias", "org/upstream-name"],
    ["filtered", "served-name"],
  ])("multipart model field %p arrives as %p, other fields and the file untouched", async (requested, seen) => {
    const form = new FormData();
    form.append("model", requested);
    form.append("temperature", "0.9");
    form.append("file", new Blob([new Uint8Array(1234)]), "a.wav");
    const echo = await echoOf(await fetch(`${s.url}/v1/audio/transcriptions`, { method: "POST", body: form }));
    expect(echo.body.fields).toEqual({ model: seen, temperature: "0.9", file: expect.objectContaining({ filename: "a.wav", size: 1234 }) });
  });
});

describe("filters", () => {
  const sent = { temperature: 0.9, top_p: 0.5, stop: ["x"], keep: 1, messages: [{ role: "user", content: "hi" }] };

  test("stripParams then setParams: stripped keys gone, set keys win, model untouchable", async () => {
    const echo = await echoOf(await chat("filtered", sent));
    expect(echo.body).toEqual({ model: "served-name", temperature: 0.2, max_tokens: 100, nested: { a: 1 }, keep: 1, messages: sent.messages });
  });

  test("setParamsByID applies last, only for its own id, and cannot set model", async () => {
    const echo = await echoOf(await chat("filtered:fast", sent));
    expect(echo.body).toEqual({
      model: "served-name",
      temperature: 0.2,
      max_tokens: 7,
      reasoning_effort: "low",
      nested: { a: 1 },
      keep: 1,
      messages: sent.messages,
    });
  });

  test("setParamsByID of one id leaves the plain id alone", async () => {
    expect((await echoOf(await chat("tuned", { temperature: 0.1 }))).body.temperature).toBe(0.1);
    expect((await echoOf(await chat("tuned:hot", { temperature: 0.1 }))).body.temperature).toBe(1.5);
  });

  test("a rewritten body carries a Content-Length that matches it", async () => {
    const res = await chat("filtered", sent);
    const echo = await echoOf(res);
    expect(Number(echo.headers["content-length"])).toBe(new TextEncoder().encode(JSON.stringify(echo.body)).length);
  });

  test("filters apply to streamed requests too (the stream flag survives)", async () => {
    const res = await chat("filtered", { ...sent, stream: true });
    const text = await res.text();
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const first = JSON.parse(text.split("\n").find((l) => l.startsWith("data: {"))!.slice(6)) as { echo: { body: Record<string, unknown> } };
    expect(first.echo.body).toMatchObject({ model: "served-name", stream: true, temperature: 0.2 });
    expect(first.echo.body.top_p).toBeUndefined();
  });
});

describe("a large body (read by its top-level keys, not parsed whole)", () => {
  const content = "y".repeat(SCAN_FROM_BYTES + 1000);

  test("goes through byte for byte, spacing and all", async () => {
    const sent = `{ "messages" : [{"role":"user","content":"${content}"}], "model":"plain-alias" }`;
    const echo = await echoOf(await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: sent }));
    expect(echo.headers["content-length"]).toBe(String(sent.length));
    expect(echo.body).toEqual(JSON.parse(sent));
  });

  test("still gets its filters", async () => {
    const echo = await echoOf(await chat("filtered", { temperature: 0.9, top_p: 0.5, messages: [{ role: "user", content }] }));
    expect(echo.body).toEqual({ model: "served-name", temperature: 0.2, max_tokens: 100, nested: { a: 1 }, messages: [{ role: "user", content }] });
  });

  test("loses its keep_alive on the way, with a Content-Length to match", async () => {
    const echo = await echoOf(await chat("plain", { keep_alive: "5m", messages: [{ role: "user", content }] }));
    expect(echo.body).toEqual({ model: "plain", messages: [{ role: "user", content }] });
    expect(Number(echo.headers["content-length"])).toBe(new TextEncoder().encode(JSON.stringify(echo.body)).length);
  });
});
