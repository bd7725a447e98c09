import { describe, expect, test } from "bun:test";
import type { LogToStdout } from "../../../src/config/types.ts";
import { createLogHub } from "../../../src/observe/log-hub.ts";
import { formatLogTime } from "../../../src/observe/log-time.ts";
import { createProxyLogger } from "../../../src/observe/proxy-log.ts";
import { logRequest } from "../../../src/http/request-log.ts";
import { deadline } from "../../../src/lib/async.ts";
import { serve, testConfig, testDeps } from "./helpers.ts";

/** What `res.body.getReader()` gives, structurally (bun-types and lib.dom disagree). */
type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> };

/** Reads a streaming body until `done(text)` holds; fails after 2 s. */
async function readUntil(reader: Reader, done: (text: string) => boolean, seen = { text: "" }): Promise<string> {
  const decoder = new TextDecoder();
  while (!done(seen.text)) {
    const { value, done: ended } = await deadline(reader.read(), 2000);
    if (ended) throw new Error(`Stream ended before the expected text: got ${JSON.stringify(seen.text)}`);
    seen.text += decoder.decode(value, { stream: true });
  }
  return seen.text;
}

/** The front as served; logLevel warn, so its own request lines stay out of the logs under test. */
function appFor(deps = testDeps({ logLevel: "warn" })) {
  return { app: { request: serve(deps) }, deps };
}

describe("LogHub", () => {
  test("keeps lines oldest first and drops the oldest past the byte cap", () => {
    const hub = createLogHub(testConfig(), () => {}, { bufferBytes: 100 });
    for (let i = 0; i < 50; i++) hub.append("upstream", "llama", `line ${String(i).padStart(2, "0")}`);
    const lines = hub.history({ kind: "model", model: "llama" }).map((l) => l.text);
    expect(lines.join("\n").length).toBeLessThanOrEqual(100);
    expect(lines.at(-1)).toBe("[llama] line 49");
    expect(lines).toEqual([...lines].sort());
    expect(lines.length).toBe(6); // "[llama] line NN" plus newline is 16 characters
  });

  test("caps each model and the proxy separately", () => {
    const hub = createLogHub(testConfig(), () => {}, { bufferBytes: 50 });
    for (let i = 0; i < 100; i++) hub.append("upstream", "llama", `a${i}`);
    hub.append("upstream", "author/qwen", "only qwen line");
    hub.append("proxy", null, "only proxy line");
    expect(hub.history({ kind: "model", model: "author/qwen" }).map((l) => l.text)).toEqual(["[author/qwen] only qwen line"]);
    expect(hub.history({ kind: "proxy" }).map((l) => l.text)).toEqual(["only proxy line"]);
  });

  test("merged histories keep arrival order across buffers", () => {
    const hub = createLogHub(testConfig(), () => {});
    hub.append("upstream", "llama", "1");
    hub.append("proxy", null, "2");
    hub.append("upstream", "author/qwen", "3");
    hub.append("upstream", "llama", "4");
    expect(hub.history({ kind: "all" }).map((l) => l.text)).toEqual(["[llama] 1", "2", "[author/qwen] 3", "[llama] 4"]);
    expect(hub.history({ kind: "upstream" }).map((l) => l.text)).toEqual(["[llama] 1", "[author/qwen] 3", "[llama] 4"]);
    expect(hub.history({ kind: "model", model: "nope" })).toEqual([]);
  });

  test.each<[LogToStdout, string[]]>([
    ["proxy", ["proxy line"]],
    ["upstream", ["[llama] upstream line"]],
    ["both", ["proxy line", "[llama] upstream line"]],
    ["none", []],
  ])("logToStdout %s prints %j", (logToStdout, printed) => {
    const out: string[] = [];
    const hub = createLogHub(testConfig({ logToStdout }), (line) => out.push(line));
    hub.append("proxy", null, "proxy line");
    hub.append("upstream", "llama", "upstream line");
    expect(out).toEqual(printed);
  });

  test("a throwing subscriber does not stop other subscribers or the buffer", () => {
    const hub = createLogHub(testConfig(), () => {});
    const got: string[] = [];
    hub.subscribe({ kind: "all" }, () => {
      throw new Error("boom");
    });
    hub.subscribe({ kind: "proxy" }, (l) => got.push(l.text));
    hub.append("proxy", null, "x");
    expect(got).toEqual(["x"]);
    expect(hub.history({ kind: "proxy" }).length).toBe(1);
  });

  test("logTimeFormat prefixes proxy lines only; upstream lines carry their model id", () => {
    const time = Date.UTC(2026, 0, 2, 15, 4, 5, 120);
    const hub = createLogHub(testConfig({ logTimeFormat: "rfc3339" }), () => {}, { now: () => time });
    hub.append("proxy", null, "[INFO] hello");
    hub.append("upstream", "llama", "raw output");
    const [proxy, upstream] = hub.history({ kind: "all" }).map((l) => l.text);
    expect(proxy).toBe(`${formatLogTime("rfc3339", time)} [INFO] hello`);
    expect(upstream).toBe("[llama] raw output");
  });
});

describe("formatLogTime", () => {
  const t = new Date(2026, 0, 2, 15, 4, 5, 120).getTime(); // local time, like Go's time.Now()
  test.each([
    ["", ""],
    ["kitchen", "3:04PM"],
    ["KITCHEN", "3:04PM"],
    ["stampmilli", "Jan  2 15:04:05.120"],
    ["datetime", "2026-01-02 15:04:05"],
    ["2006/01/02 15:04:05.999", "2026/01/02 15:04:05.12"],
  ])("%j renders %j", (format, expected) => {
    expect(formatLogTime(format, t)).toBe(expected);
  });

  test("rfc3339 carries the local offset", () => {
    expect(formatLogTime("rfc3339", t)).toMatch(/^2026-01-02T15:04:05(Z|[+-]\d\d:\d\d)$/);
  });
});

describe("proxyLog", () => {
  test.each([
    ["debug", ["[DEBUG] d", "[INFO] i", "[WARN] w", "[ERROR] e"]],
    ["info", ["[INFO] i", "[WARN] w", "[ERROR] e"]],
    ["warn", ["[WARN] w", "[ERROR] e"]],
    ["error", ["[ERROR] e"]],
  ] as const)("logLevel %s keeps %j", (logLevel, kept) => {
    const config = testConfig({ logLevel });
    const hub = createLogHub(config, () => {});
    const log = createProxyLogger(config, hub);
    log("debug", "d");
    log("info", "i");
    log("warn", "w");
    log("error", "e");
    expect(hub.history({ kind: "proxy" }).map((l) => l.text)).toEqual([...kept]);
  });
});

describe("logFormat: json", () => {
  test("every line is one JSON object: proxy lines with level and event, upstream lines with their model", () => {
    const out: string[] = [];
    const config = testConfig({ logFormat: "json", logToStdout: "both" });
    const hub = createLogHub(config, (l) => out.push(l), { now: () => Date.UTC(2026, 11, 1) });
    createProxyLogger(config, hub)("warn", "disk almost full", { event: "disk", fields: { freeMb: 12 } });
    hub.append("upstream", "llama", "srv listening");
    expect(out.map((l) => JSON.parse(l))).toEqual([
      { time: "2026-12-01T00:00:00.000Z", level: "warn", source: "proxy", event: "disk", msg: "disk almost full", freeMb: 12 },
      { time: "2026-12-01T00:00:00.000Z", level: null, source: "upstream", model: "llama", msg: "srv listening" },
    ]);
    expect(hub.history({ kind: "all" }).map((l) => l.text)).toEqual(out);
  });

  test("the request line carries its facts as fields; a text line never builds them", () => {
    const facts = { client: "10.0.0.2", method: "POST", path: "/v1/chat/completions", status: 200, bytes: 635, userAgent: "wrk", durationMs: 0.5432, model: "llama" };
    const out: string[] = [];
    const json = testConfig({ logFormat: "json", logToStdout: "both" });
    logRequest(createProxyLogger(json, createLogHub(json, (l) => out.push(l), { now: () => Date.UTC(2026, 11, 1) })), facts);
    expect(JSON.parse(out[0]!)).toEqual({
      time: "2026-12-01T00:00:00.000Z", level: "info", source: "proxy", event: "request",
      msg: 'Request 10.0.0.2 "POST /v1/chat/completions HTTP/1.1" 200 635 "wrk" 543.2µs model=llama',
      client: "10.0.0.2", method: "POST", path: "/v1/chat/completions", status: 200, bytes: 635, durationMs: 0.5, model: "llama",
    });
    let built = 0;
    const fields = () => (built++, { n: 1 });
    const text = testConfig({ logToStdout: "both" });
    createProxyLogger(text, createLogHub(text, () => {}))("info", "a text line", { event: "x", fields });
    expect(built).toBe(0);
    createProxyLogger(json, createLogHub(json, () => {}))("info", "a JSON line", { event: "x", fields });
    expect(built).toBe(1);
  });
});

describe("GET /logs", () => {
  test("returns proxy and upstream history as text", async () => {
    const { app, deps } = appFor();
    deps.logs.append("proxy", null, "[INFO] started");
    deps.logs.append("upstream", "llama", "llama says hi");
    const res = await app.request("/logs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toStartWith("text/plain");
    expect(await res.text()).toBe("[INFO] started\n[llama] llama says hi\n");
  });

  test("redirects browsers to the UI", async () => {
    const { app } = appFor();
    const res = await app.request("/logs", { headers: { Accept: "text/html,application/xhtml+xml" } });
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/ui/");
  });
});

describe("GET /logs/stream", () => {
  test.each([
    ["/logs/stream/llama", "llama"],
    ["/logs/stream/gpt-4o", "llama"],
    ["/logs/stream/author/qwen", "author/qwen"],
  ])("%s sends history, then live lines of %s only", async (path, model) => {
    const { app, deps } = appFor();
    deps.logs.append("upstream", model, "old line");
    deps.logs.append("upstream", "other", "not mine");
    const res = await app.request(path);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, (t) => t.includes("old line\n"), seen);
    deps.logs.append("proxy", null, "proxy noise");
    deps.logs.append("upstream", model, "new line");
    expect(await readUntil(reader, (t) => t.includes("new line\n"), seen)).toBe(`[${model}] old line\n[${model}] new line\n`);
    await reader.cancel();
  });

  test("?no-history skips the buffered lines", async () => {
    const { app, deps } = appFor();
    deps.logs.append("upstream", "llama", "old line");
    const res = await app.request("/logs/stream/llama?no-history");
    const reader = res.body!.getReader();
    const pending = readUntil(reader, (t) => t.includes("new line\n"));
    deps.logs.append("upstream", "llama", "new line");
    expect(await pending).toBe("[llama] new line\n");
    await reader.cancel();
  });

  test.each([
    ["/logs/stream", ["[INFO] p", "[llama] u"]],
    ["/logs/stream/proxy", ["[INFO] p"]],
    ["/logs/stream/upstream", ["[llama] u"]],
  ])("%s streams its own lines", async (path, lines) => {
    const { app, deps } = appFor();
    deps.logs.append("proxy", null, "[INFO] p");
    deps.logs.append("upstream", "llama", "u");
    const reader = (await app.request(path)).body!.getReader();
    const expected = lines.map((l) => `${l}\n`).join("");
    expect(await readUntil(reader, (t) => t.length >= expected.length)).toBe(expected);
    await reader.cancel();
  });

  test("an unknown model is a 400 with an OpenAI-style error", async () => {
    const { app } = appFor();
    const res = await app.request("/logs/stream/nope");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("'nope'");
  });

  test("cancelling the stream unsubscribes it", async () => {
    const deps = testDeps({ logLevel: "warn" });
    const inner = deps.logs;
    let active = 0;
    deps.logs = {
      ...inner,
      subscribe(filter, listener) {
        active++;
        const off = inner.subscribe(filter, listener);
        return () => {
          active--;
          off();
        };
      },
    };
    const { app } = appFor(deps);
    const reader = (await app.request("/logs/stream/llama?no-history")).body!.getReader();
    expect(active).toBe(1);
    const pending = readUntil(reader, (t) => t.includes("x\n"));
    deps.logs.append("upstream", "llama", "x");
    await pending;
    await reader.cancel();
    expect(active).toBe(0);
  });
});
