import { describe, expect, test } from "bun:test";
import type { LogHub, LogLine, SequencedEvent } from "../../../src/observe/index.ts";
import { type EventMessage, EventView } from "../../../src/http/stream/event-frames.ts";
import { FRAME_UPDATE_BODY, FRAME_UPDATE_PARAM, MAX_LOG_LINES, type UiUpdate } from "../../../src/http/ui/model.ts";
import { UI_SCRIPT } from "../../../src/http/ui/page.ts";
import type { ModelStatus } from "../../../src/scheduler/protocol.ts";
import { config, peer } from "./config-fixture.ts";

/** The page's `frameUpdate`, built from the exact text the page inlines. */
const frameUpdate = new Function(FRAME_UPDATE_PARAM, FRAME_UPDATE_BODY) as (envelope: unknown) => UiUpdate | null;

/** What the page's EventSource handler does with one frame: parse the envelope, then update. */
const onFrame = (m: EventMessage) => frameUpdate(JSON.parse(JSON.stringify(m)));

const cfg = config(
  { llama: { name: "Llama 3", description: "chat", aliases: ["l3"] }, "org/qwen": {}, hidden: { unlisted: true } },
  { peers: { far: peer("far", "http://10.0.0.9:8080", ["gpt-x"]) } },
);
const status = (model: string, state: ModelStatus["state"], inFlight = 0, queued = 0): ModelStatus => ({ model, state, inFlight, queued, pid: null, since: 0, forMs: 0, lastError: null, failures: 0, retryInMs: null });

function logHub(lines: Array<Pick<LogLine, "source" | "text">>): LogHub {
  return {
    append() {},
    history: (filter) => lines.filter((l) => filter.kind === "all" || l.source === filter.kind).map((l) => ({ ...l, model: null, time: 0 })),
    subscribe: () => () => {},
  };
}

let seq = 0;
const hubEvent = (event: SequencedEvent["event"]): SequencedEvent => ({ seq: ++seq, time: 0, event });

describe("frameUpdate on the connect snapshot", () => {
  const view = new EventView(cfg, [status("llama", "ready", 1, 2), status("org/qwen", "failed")]);
  const updates = view.snapshot(logHub([{ source: "proxy", text: "p1" }, { source: "upstream", text: "u1" }, { source: "proxy", text: "p2" }]), 0, 0).map(onFrame);

  test("turns the five llama-swap frames into proxy log, upstream log, models, nothing (metrics), in-flight total", () => {
    expect(updates.map((u) => u?.kind ?? null)).toEqual(["log", "log", "models", null, "inflight"]);
    expect(updates[0]).toEqual({ kind: "log", source: "proxy", lines: ["p1", "p2"] });
    expect(updates[1]).toEqual({ kind: "log", source: "upstream", lines: ["u1"] });
    expect(updates[4]).toEqual({ kind: "inflight", total: 3 });
  });

  test("lists every model with its state, Unload only for running local models", () => {
    expect(updates[2]).toEqual({
      kind: "models",
      models: [
        { id: "hidden", name: "", description: "", state: "unknown", peerID: "", unlisted: true, running: false },
        { id: "llama", name: "Llama 3", description: "chat", state: "ready", peerID: "", unlisted: false, running: true },
        { id: "org/qwen", name: "", description: "", state: "stopped", peerID: "", unlisted: false, running: false },
        { id: "gpt-x", name: "", description: "", state: "", peerID: "far", unlisted: false, running: false },
      ],
    });
  });

  test("an empty log history gives no lines", () => {
    const empty = new EventView(cfg, []).snapshot(logHub([]), 0, 0).map(onFrame);
    expect(empty[0]).toEqual({ kind: "log", source: "proxy", lines: [] });
  });
});

describe("frameUpdate on live frames", () => {
  test.each([
    ["starting", true],
    ["ready", true],
    ["stopping", false],
    ["stopped", false],
    ["failed", false],
  ] as const)("a model that is %s has Unload: %p", (state, running) => {
    const update = onFrame(new EventView(cfg, []).message(hubEvent({ kind: "modelState", model: "llama", state, previous: "stopped" })));
    expect(update?.kind).toBe("models");
    if (update?.kind !== "models") return;
    expect(update.models.find((m) => m.id === "llama")?.running).toBe(running);
  });

  test("in-flight totals add up across models", () => {
    const view = new EventView(cfg, [status("llama", "ready", 2, 0)]);
    expect(onFrame(view.message(hubEvent({ kind: "inflight", model: "org/qwen", inFlight: 1, queued: 4 })))).toEqual({ kind: "inflight", total: 7 });
  });

  test.each<[SequencedEvent["event"], UiUpdate | null]>([
    [{ kind: "log", source: "upstream", model: "llama", line: "loading <b>weights</b>" }, { kind: "log", source: "upstream", lines: ["loading <b>weights</b>"] }],
    [{ kind: "log", source: "scheduler", model: "llama", line: "started" }, { kind: "log", source: "proxy", lines: ["[llama] started"] }],
    [{ kind: "proxyLog", line: "Request \"GET /ui/\" 200 0.1ms" }, { kind: "log", source: "proxy", lines: ["Request \"GET /ui/\" 200 0.1ms"] }],
    [{ kind: "request", model: "llama", id: 1, action: "granted" }, null],
    [{ kind: "clock", now: 5 }, null],
  ])("%j → %j", (event, expected) => {
    expect(onFrame(new EventView(cfg, []).message(hubEvent(event)))).toEqual(expected);
  });
});

describe("frameUpdate on odd input", () => {
  test.each([
    ["null", null],
    ["no data", { type: "inflight" }],
    ["data that is not JSON", { type: "inflight", data: "{" }],
    ["an unknown type", { type: "metrics", data: "[]" }],
    ["models that are not an array", { type: "modelStatus", data: "{}" }],
    ["an unknown log source", { type: "logData", data: JSON.stringify({ source: "other", data: "x\n" }) }],
    ["a total that is not a number", { type: "inflight", data: '{"total":"3"}' }],
  ])("ignores %s", (_name, envelope) => {
    expect(frameUpdate(envelope)).toBeNull();
  });

  test(`keeps only the last ${MAX_LOG_LINES} lines of a large history`, () => {
    const text = Array.from({ length: MAX_LOG_LINES + 5 }, (_, i) => `line ${i}\n`).join("");
    const update = frameUpdate({ type: "logData", data: JSON.stringify({ source: "proxy", data: text }) });
    expect(update?.kind === "log" ? [update.lines.length, update.lines[0]] : null).toEqual([MAX_LOG_LINES, "line 5"]);
  });

  test("skips model rows without an id", () => {
    const update = frameUpdate({ type: "modelStatus", data: JSON.stringify([null, { name: "x" }, { id: "a", state: "ready" }]) });
    expect(update).toEqual({ kind: "models", models: [{ id: "a", name: "", description: "", state: "ready", peerID: "", unlisted: false, running: true }] });
  });
});

test("the page inlines exactly this frameUpdate", () => {
  expect(UI_SCRIPT).toContain(`function frameUpdate(${FRAME_UPDATE_PARAM}) {${FRAME_UPDATE_BODY}}`);
});
