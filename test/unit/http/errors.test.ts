import { afterAll, describe, expect, test } from "bun:test";
import { HTTPException } from "hono/http-exception";
import { errorResponse, HttpError, preferredFormat, STATUS_OF, toHttpError } from "../../../src/http/errors.ts";
import { SchedulerError } from "../../../src/scheduler/api.ts";
import { rejection, statusFor } from "../../../src/scheduler/protocol.ts";
import { config } from "./config-fixture.ts";
import { makeDeps, post, serve, servedBy, startUpstream } from "./helpers.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

function app(concurrencyLimit = 10) {
  const deps = makeDeps(servedBy(config({ llama: { aliases: ["gpt"], concurrencyLimit } }), upstream.url), { autoReady: false });
  return { app: { request: serve(deps) }, deps };
}

type ErrorBody = { error: { code: string; type: string; message: string } };

describe("request body errors are OpenAI-style", () => {
  test.each([
    ["malformed JSON", "{not json", 400, "invalid_json"],
    ["a body that is not an object", "[1,2]", 400, "invalid_request"],
    ["a missing model", { messages: [] }, 400, "missing_model"],
    ["a non-string model", { model: 7 }, 400, "invalid_model"],
    ["an empty model", { model: "" }, 400, "invalid_model"],
    ["an unknown model", { model: "nope" }, 404, "model_not_found"],
  ] as const)("%s", async (_name, body, status, code) => {
    const res = await app().app.request("/v1/chat/completions", post(body));
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.type).toBe(status === 404 || status === 400 ? "invalid_request_error" : "server_error");
    expect(json.error.message.length).toBeGreaterThan(0);
  });
});

describe("scheduler rejections map to their status", () => {
  test("a failed start is 502 start_failed, and the next request in the backoff 503 with Retry-After", async () => {
    const { app: a, deps } = app();
    const first = a.request("/v1/chat/completions", post({ model: "llama" }));
    await deps.scheduler.reach("llama", "starting");
    deps.scheduler.process("llama").failStart("exited with status 1");
    const failed = await first;
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as ErrorBody).error).toEqual({ code: "start_failed", type: "server_error", message: "Cannot start model 'llama': exited with status 1" });
    const later = await a.request("/v1/chat/completions", post({ model: "gpt" }));
    expect(later.status).toBe(503);
    expect(later.headers.get("retry-after")).toBe("1");
    expect(((await later.json()) as ErrorBody).error.code).toBe("backoff");
  });

  test("over concurrencyLimit is 429 with Retry-After", async () => {
    const { app: a, deps } = app(1);
    const held = deps.scheduler.acquire("llama");
    await deps.scheduler.reach("llama", "starting");
    const res = await a.request("/v1/chat/completions", post({ model: "llama" }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "too_many_requests", message: "Cannot queue the request as the concurrency limit is reached: 1 for llama" });
    deps.scheduler.process("llama").ready();
    (await held).release();
  });

  test("a fractional Retry-After is rounded up", async () => {
    const res = errorResponse(new SchedulerError(rejection("backoff", "Cannot start model yet", 7.2)));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("8");
  });
});

describe("error format follows Accept", () => {
  test.each([
    [undefined, "json"],
    ["application/json", "json"],
    ["*/*", "json"],
    ["text/plain", "text"],
    ["text/html,application/xhtml+xml,*/*;q=0.8", "html"],
    ["application/json;q=0.5, text/plain", "text"],
    ["text/plain;q=0, application/json", "json"],
  ] as const)("%s → %s", (accept, format) => {
    expect(preferredFormat(accept)).toBe(format);
  });

  test("text/plain gets the bare message, html an escaped page", async () => {
    const err = new HttpError("model_not_found", "Cannot find <model>");
    expect(await errorResponse(err, "text/plain").text()).toBe("Cannot find <model>\n");
    const html = await errorResponse(err, "text/html").text();
    expect(html).toContain("Cannot find &#60;model&#62;");
  });

  test("an unknown route is a JSON 404", async () => {
    const res = await app().app.request("/nope");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

describe("one code, one status", () => {
  test("a code's status comes from the table, and the scheduler's codes keep the scheduler's statuses", async () => {
    for (const [code, status] of Object.entries(statusFor)) expect(STATUS_OF[code as keyof typeof statusFor]).toBe(status);
    const res = errorResponse(new HttpError("model_not_found", "Cannot find model: 'x' is not configured"));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "Cannot find model: 'x' is not configured", type: "invalid_request_error", code: "model_not_found" } });
    expect(errorResponse(new HttpError("client_closed", "gone")).status).toBe(499);
  });

  test("an HTTPException from hono's own helpers renders like ours", async () => {
    expect(toHttpError(new HTTPException(413, { message: "too big" })).code).toBe("request_too_large");
    const res = errorResponse(new HTTPException(401, { message: "Cannot authorize request: no" }));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
  });
});
