import { describe, expect, test } from "bun:test";
import { serve, testDeps } from "./helpers.ts";

type ErrorBody = { error: { message: string; type: string; code: string } };

/** The front as served, test hooks on, over the real scheduler (manual clock) with fake processes. */
function appFor(deps = testDeps()) {
  return { app: { request: serve(deps) }, deps };
}

const post = (body: unknown) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("clock", () => {
  test("GET /test/clock returns the scheduler's time", async () => {
    const { app, deps } = appFor();
    await deps.scheduler.clockAdvance(1234);
    const res = await app.request("/test/clock");
    expect(await res.json()).toEqual({ now: 1234 });
  });

  test("POST /test/clock/advance moves the clock, then waits for the scheduler to settle", async () => {
    const { app, deps } = appFor();
    const res = await app.request("/test/clock/advance", post({ ms: 1500 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ now: 1500, settled: true });
    expect(deps.scheduler.calls).toEqual([["clockAdvance", 1500], ["settle", 10_000]]);
    expect(await (await app.request("/test/clock")).json()).toEqual({ now: 1500 });
  });

  test.each([
    [{ ms: -1 }],
    [{ ms: 1.5 }],
    [{ ms: "100" }],
    [{}],
    ["not json"],
  ])("POST /test/clock/advance rejects %j with 400", async (body) => {
    const { app, deps } = appFor();
    const res = await app.request("/test/clock/advance", post(body));
    expect(res.status).toBe(400);
    const err = (await res.json()) as ErrorBody;
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.code).toBe("invalid_body");
    expect(deps.scheduler.calls).toEqual([]);
  });
});

describe("settle", () => {
  test("answers 200 when the scheduler settled", async () => {
    const { app, deps } = appFor();
    const res = await app.request("/test/settle?timeout=5s");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ settled: true });
    expect(deps.scheduler.calls).toEqual([["settle", 5000]]);
  });

  test("answers 408 with what is pending when it did not", async () => {
    const { app, deps } = appFor(testDeps({}, false));
    await deps.scheduler.starting("llama");
    const res = await app.request("/test/settle?timeout=20ms");
    expect(res.status).toBe(408);
    const body = (await res.json()) as { settled: boolean; pending: string[] };
    expect(body.settled).toBe(false);
    expect(body.pending).toContain("llama is starting");
  });

  test("defaults to 10s and rejects a malformed timeout", async () => {
    const { app, deps } = appFor();
    await app.request("/test/settle");
    expect(deps.scheduler.calls).toEqual([["settle", 10_000]]);
    expect((await app.request("/test/settle?timeout=soon")).status).toBe(400);
  });
});

describe("GET /test/events", () => {
  test("returns buffered events after `since` at once", async () => {
    const { app, deps } = appFor();
    for (let i = 1; i <= 3; i++) deps.events.publish({ kind: "clock", now: i });
    const res = await app.request("/test/events?since=1&timeout=10s");
    const body = (await res.json()) as { events: Array<{ seq: number }>; lastSeq: number };
    expect(body.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(body.lastSeq).toBe(3);
  });

  test("waits for the next event when none is buffered", async () => {
    const deps = testDeps();
    const inner = deps.events;
    let subscribed!: () => void;
    const waiting = new Promise<void>((resolve) => (subscribed = resolve));
    deps.events = {
      publish: (e) => inner.publish(e),
      since: (s) => inner.since(s),
      subscribe(listener) {
        const off = inner.subscribe(listener);
        subscribed();
        return off;
      },
      get lastSeq() {
        return inner.lastSeq;
      },
    };
    const { app } = appFor(deps);
    deps.events.publish({ kind: "clock", now: 1 });
    let answered = false;
    const pending = Promise.resolve(app.request("/test/events?since=1&timeout=30s")).then((res) => {
      answered = true;
      return res;
    });
    await waiting;
    expect(answered).toBe(false);
    deps.events.publish({ kind: "modelState", model: "llama", state: "ready", previous: "starting" });
    const body = (await (await pending).json()) as { events: Array<{ seq: number; event: { kind: string } }>; lastSeq: number };
    expect(body.events.map((e) => [e.seq, e.event.kind])).toEqual([[2, "modelState"]]);
    expect(body.lastSeq).toBe(2);
  });

  test("returns an empty list after the timeout", async () => {
    const { app, deps } = appFor();
    deps.events.publish({ kind: "clock", now: 1 });
    const res = await app.request("/test/events?since=1&timeout=20ms");
    expect(await res.json()).toEqual({ events: [], lastSeq: 1 });
  });

  test("rejects a malformed since", async () => {
    const { app } = appFor();
    expect((await app.request("/test/events?since=abc")).status).toBe(400);
  });
});

describe("models", () => {
  test.each([
    ["llama", "llama"],
    ["gpt-4o", "llama"],
    ["author/qwen", "author/qwen"],
  ])("POST /test/models/%s/kill kills %s", async (name, model) => {
    const { app, deps } = appFor();
    await deps.scheduler.ready(model);
    const res = await app.request(`/test/models/${name}/kill`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model, killed: true });
    expect(deps.scheduler.calls).toEqual([["kill", model]]);
    expect(deps.scheduler.process(model).kills).toBe(1);
    expect((await deps.scheduler.status()).find((s) => s.model === model)?.state).toBe("failed");
  });

  test("killing an unknown model is an OpenAI-style 404", async () => {
    const { app, deps } = appFor();
    const res = await app.request("/test/models/nope/kill", { method: "POST" });
    expect(res.status).toBe(404);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "model_not_found" });
    expect(deps.scheduler.calls).toEqual([]);
  });

  test("a scheduler rejection keeps its status and code", async () => {
    const { app, deps } = appFor();
    deps.scheduler.close();
    const res = await app.request("/test/models/llama/kill", { method: "POST" });
    expect(res.status).toBe(500);
    expect(((await res.json()) as ErrorBody).error).toEqual({ type: "server_error", code: "internal", message: "Cannot reach the scheduler as it was closed" });
  });

  test.each([true, false])("POST /test/models/:model/health with fail=%p overrides health", async (fail) => {
    const { app, deps } = appFor();
    await deps.scheduler.ready("llama");
    deps.scheduler.process("llama").healthFail = !fail;
    const res = await app.request("/test/models/gpt-4o/health", post({ fail }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "llama", fail });
    expect(deps.scheduler.calls).toEqual([["healthOverride", "llama", fail]]);
    expect(deps.scheduler.process("llama").healthFail).toBe(fail);
  });

  test("health override validates its body", async () => {
    const { app } = appFor();
    expect((await app.request("/test/models/llama/health", post({ fail: "yes" }))).status).toBe(400);
  });
});
