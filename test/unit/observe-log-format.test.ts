/** One formatter for every log line: llama-swap's text, or JSON lines. */
import { describe, expect, test } from "bun:test";
import { isRope } from "bun:jsc";
import { formatRecord, type LogRecord } from "../../src/observe/log-format.ts";

const T = Date.UTC(2026, 11, 1, 6, 30, 0, 250);
const ready: LogRecord = { time: T, source: "proxy", level: "info", model: "llama", event: "ready", msg: "ready after 1.20s", fields: { durationMs: 1200 } };

describe("formatRecord", () => {
  test("text: level, then the model tag, then the message", () => {
    expect(formatRecord(ready, { format: "text", timeFormat: "" })).toBe("[INFO] [llama] ready after 1.20s");
  });

  test("text: a proxy line without a model has no tag; logTimeFormat stamps it", () => {
    const line = formatRecord({ ...ready, model: null, event: "request", msg: 'Request "GET /" 200' }, { format: "text", timeFormat: "rfc3339" });
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) \[INFO\] Request "GET \/" 200$/);
  });

  test("text: upstream output is prefixed with its model id and never stamped", () => {
    const line = formatRecord({ time: T, source: "upstream", level: null, model: "llama-8b", event: null, msg: "srv listening" }, { format: "text", timeFormat: "rfc3339" });
    expect(line).toBe("[llama-8b] srv listening");
  });

  test("json: one object a line with ISO time, level, source, model, event, msg and the fields", () => {
    const line = formatRecord(ready, { format: "json", timeFormat: "kitchen" });
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({ time: "2026-12-01T06:30:00.250Z", level: "info", source: "proxy", model: "llama", event: "ready", msg: "ready after 1.20s", durationMs: 1200 });
  });

  test("json: fields never overwrite the standard keys; a message with newlines stays one line", () => {
    const line = formatRecord({ ...ready, msg: "a\nb", fields: { msg: "x", level: "debug", exit: 3 } }, { format: "json", timeFormat: "" });
    expect(line.split("\n")).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ msg: "a\nb", level: "info", exit: 3 });
  });

  test("text lines come out flat, not as ropes of their parts (they are kept in the buffers and the event ring)", () => {
    const client = ["127", "0", "0", "1"].join(".");
    const msg = `Request ${client} "POST /v1/chat/completions HTTP/1.1" ${200} ${605} "" ${(0.31).toFixed(1)}ms model=${"llama"}`;
    expect(isRope(msg)).toBe(true); // what the request log builds
    for (const line of [formatRecord({ ...ready, msg }, { format: "text", timeFormat: "" }), formatRecord({ time: T, source: "upstream", level: null, model: "llama", event: null, msg }, { format: "text", timeFormat: "" })]) {
      expect(isRope(line)).toBe(false);
      expect(line.endsWith(msg)).toBe(true);
    }
  });
});
