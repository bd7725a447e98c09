/**
 * The `apiKeys` matrix end to end: no key, a wrong key, and each accepted
 * form (Bearer, x-api-key, Basic password) across endpoint families; 401
 * with `WWW-Authenticate`; `/health` and CORS preflight open; the client's
 * key never reaches the model.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiServer, echoOf, startApiServer } from "./api-harness.ts";

const KEYS = ["key-one", "key:two"];
let s: ApiServer;

beforeAll(async () => {
  s = await startApiServer(
    (fake) => `apiKeys: ["${KEYS[0]}", "${KEYS[1]}"]
models:
  m:
    cmd: ${fake()}
`,
  );
});

afterAll(() => s.stop());

const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

const CREDENTIALS: Array<[string, 200 | 401, Record<string, string>]> = [
  ["no key", 401, {}],
  ["a wrong Bearer key", 401, { authorization: "Bearer nope" }],
  ["a wrong x-api-key", 401, { "x-api-key": "nope" }],
  ["a wrong Basic password", 401, { authorization: basic("key-one", "nope") }],
  ["an empty Bearer", 401, { authorization: "Bearer " }],
  ["Bearer key-one", 200, { authorization: "Bearer key-one" }],
  ["bearer key-one (schemes are case-insensitive, RFC 9110)", 200, { authorization: "bearer key-one" }],
  ["BEARER key-one", 200, { authorization: "BEARER key-one" }],
  ["basic with key-one as password", 200, { authorization: `basic ${btoa("anyone:key-one")}` }],
  ["Bearer key:two", 200, { authorization: "Bearer key:two" }],
  ["x-api-key key-one", 200, { "x-api-key": "key-one" }],
  ["Basic with key-one as password", 200, { authorization: basic("anyone", "key-one") }],
  ["Basic with key:two as password (split at the first colon)", 200, { authorization: basic("u", "key:two") }],
  ["a wrong Bearer with a right x-api-key (Bearer is read first)", 401, { authorization: "Bearer nope", "x-api-key": "key-one" }],
];

const ENDPOINTS: Array<[string, string, string | null]> = [
  ["GET", "/v1/models", null],
  ["POST", "/v1/chat/completions", '{"model":"m","messages":[]}'],
  ["POST", "/v1/messages", '{"model":"m","max_tokens":1,"messages":[]}'],
  ["GET", "/props?model=m", null],
  ["GET", "/upstream/m/props", null],
  ["GET", "/running", null],
  ["GET", "/logs", null],
];

describe.each(ENDPOINTS)("%s %s", (method, path, body) => {
  test.each(CREDENTIALS)("with %s answers %p", async (_, status, headers) => {
    const init: RequestInit = { method, headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) } };
    if (body) init.body = body;
    const res = await fetch(`${s.url}${path}`, init);
    expect(res.status).toBe(status);
    if (status === 401) {
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="modelswap"');
      const json = (await res.json()) as { error: { type: string; message: string } };
      expect(json.error.type).toBe("authentication_error");
      expect(json.error.message).toBe("Cannot authorize request: invalid or missing API key");
    } else {
      await res.body?.cancel();
    }
  });
});

describe("open without a key", () => {
  test("/health", async () => {
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  test("OPTIONS preflight is 204 with CORS headers echoing the origin", async () => {
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
  });
});

describe("the key stays with modelswap", () => {
  test.each([
    ["Bearer", { authorization: "Bearer key-one" }],
    ["x-api-key", { "x-api-key": "key-one" }],
    ["Basic", { authorization: basic("u", "key-one") }],
  ] as Array<[string, Record<string, string>]>)("a %s credential is stripped before the model sees the request", async (_, headers) => {
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"model":"m"}' });
    const echo = await echoOf(res);
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers["x-api-key"]).toBeUndefined();
  });

  test("the key never appears in the logs", async () => {
    const logs = await (await fetch(`${s.url}/logs`, { headers: { authorization: "Bearer key-one" } })).text();
    expect(logs).toContain("/v1/chat/completions");
    expect(logs).not.toContain("key-one");
  });
});
