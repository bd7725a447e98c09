import { afterAll, describe, expect, test } from "bun:test";
import { config } from "./config-fixture.ts";
import { makeDeps, post, serve, servedBy, startUpstream } from "./helpers.ts";
import { keyGuard } from "../../../src/http/edge/auth.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

function app(apiKeys = ["sk-one", "sk-two"]) {
  return { request: serve(makeDeps(servedBy(config({ llama: {} }, { apiKeys }), upstream.url))) };
}

const basic = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

describe("API keys", () => {
  test.each([
    ["no key", {}, 401],
    ["a wrong Bearer key", { Authorization: "Bearer sk-nope" }, 401],
    ["a key that is a prefix of a real one", { Authorization: "Bearer sk-on" }, 401],
    ["a Bearer key", { Authorization: "Bearer sk-one" }, 200],
    ["an x-api-key", { "x-api-key": "sk-two" }, 200],
    ["a Basic password", { Authorization: basic("anyone", "sk-two") }, 200],
    ["a Basic user name only", { Authorization: basic("sk-one", "") }, 401],
  ] as const)("%s → %d", async (_name, headers, status) => {
    const res = await app().request("/v1/models", { headers });
    expect(res.status).toBe(status);
    if (status === 401) {
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="modelswap"');
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe("authentication_error");
      expect(body.error.message).not.toContain("sk-");
    }
  });

  test("a key is compared whole, byte for byte", () => {
    const check = keyGuard(["sk-long-key-0123456789", "sk-two"])!;
    const bearer = (key: string) => new Headers({ Authorization: `Bearer ${key}` });
    expect(() => check("GET", "/v1/models", bearer("sk-long-key-0123456789"))).not.toThrow();
    expect(() => check("GET", "/v1/models", bearer("sk-two"))).not.toThrow();
    for (const wrong of ["sk-long-key-0123456788", "xk-long-key-0123456789", "sk-long-key-012345678", "sk-long-key-01234567890", "sk-twO"]) {
      expect(() => check("GET", "/v1/models", bearer(wrong))).toThrow("invalid or missing API key");
    }
  });

  test("/health stays open", async () => {
    expect((await app().request("/health")).status).toBe(200);
  });

  test("no keys configured means no check", async () => {
    expect((await app([]).request("/v1/models")).status).toBe(200);
  });

  test("the client's key is not forwarded upstream", async () => {
    const res = await app().request("/v1/chat/completions", post({ model: "llama" }, { Authorization: "Bearer sk-one", "x-api-key": "sk-one" }));
    expect(res.status).toBe(200);
    const r = upstream.received.at(-1);
    expect(r?.headers.get("authorization")).toBeNull();
    expect(r?.headers.get("x-api-key")).toBeNull();
  });
});

describe("CORS preflight", () => {
  test("OPTIONS anything → 204 with the origin echoed and requested headers allowed, even with keys", async () => {
    const res = await app().request("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { Origin: "http://ui.example", "Access-Control-Request-Headers": "content-type, x-custom, bad header" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://ui.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, x-custom");
  });
});
