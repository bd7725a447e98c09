/** The UI's frame handling, without a browser: what a reconnect or a racing fetch must not break. */
import { describe, expect, test } from "bun:test";
import { appendLines, applyFrame, type LiveState, mergeActivity, perMinute } from "../../../src/ui/app/frames.ts";
import { LiveStore } from "../../../src/ui/app/store.ts";
import type { ActivityEntry } from "../../../src/metrics/activity.ts";
import { noTokens } from "../../../src/metrics/tokens.ts";

const empty: LiveState = { connected: true, loaded: false, models: [], proxyLog: [], upstreamLog: [], activity: [], inflight: 0 };
const row = (id: number): ActivityEntry => ({
  id, timestamp: "2026-12-01T00:00:00.000Z", model: "a", req_path: "/v1/chat/completions", resp_content_type: "", resp_status_code: 200,
  tokens: noTokens(), duration_ms: 1, has_capture: false, ttfb_ms: 1, bytes: 0,
});

describe("UI frame handling", () => {
  test("log data appends whole lines in order", () => {
    let s = applyFrame(empty, { type: "logData", data: JSON.stringify({ source: "proxy", data: "a\nb\n" }) });
    s = applyFrame(s, { type: "logData", data: JSON.stringify({ source: "upstream", data: "[m] u\n" }) });
    s = applyFrame(s, { type: "logData", data: JSON.stringify({ source: "proxy", data: "" }) });
    expect(s.proxyLog).toEqual(["a", "b"]);
    expect(s.upstreamLog).toEqual(["[m] u"]);
  });

  test("activity rows are merged by id, newest first, once each", () => {
    const s = applyFrame({ ...empty, activity: [row(2), row(1)] }, { type: "metrics", data: JSON.stringify([row(2), row(3)]) });
    expect(s.activity.map((r) => r.id)).toEqual([3, 2, 1]);
    expect(mergeActivity([row(1)], [row(1)])).toHaveLength(1);
  });

  test("model states replace the list and mark the page loaded; in-flight total", () => {
    let s = applyFrame(empty, { type: "modelStatus", data: JSON.stringify([{ id: "a", state: "failed", error: "exit 3" }]) });
    s = applyFrame(s, { type: "inflight", data: '{"total":4}' });
    expect(s).toMatchObject({ loaded: true, inflight: 4, models: [{ id: "a", state: "failed", error: "exit 3" }] });
  });

  test("a model's in-flight and queued counts follow modelswap's inflight events", () => {
    const s = applyFrame({ ...empty, models: [{ id: "a", name: "", description: "", state: "ready", unlisted: false, peerID: "", inFlight: 0, queued: 1 }] }, {
      type: "inflight",
      data: '{"total":2}',
      event: { kind: "inflight", model: "a", inFlight: 2, queued: 0 },
    });
    expect(s.models[0]).toMatchObject({ inFlight: 2, queued: 0 });
    expect(s.inflight).toBe(2);
  });

  test("log lines are bounded", () => {
    const many = Array.from({ length: 2500 }, (_, i) => `l${i}`).join("\n");
    expect(appendLines([], `${many}\n`)).toHaveLength(2000);
  });
});

describe("the page's live state", () => {
  test("a late subscriber gets the state at once: a page whose effect runs after the snapshot arrived still shows it", () => {
    const live = new LiveStore();
    live.state = applyFrame(live.state, { type: "logData", data: JSON.stringify({ source: "proxy", data: "[broken] start failed after 3 ms\n" }) });
    const seen: LiveState[] = [];
    const off = live.subscribe((s) => seen.push(s));
    expect(seen.map((s) => s.proxyLog)).toEqual([["[broken] start failed after 3 ms"]]);
    off();
  });
});

describe("the activity chart's series", () => {
  test("one point per minute (requests counted, generation speed averaged), framed by the last half hour", () => {
    const at = (iso: string, tps: number): ActivityEntry => ({ ...row(1), timestamp: iso, tokens: { ...noTokens(), tokens_per_second: tps } });
    const now = Date.parse("2026-12-01T10:00:30Z");
    const [xs, speed, requests] = perMinute([at("2026-12-01T09:59:10Z", 40), at("2026-12-01T09:59:50Z", 60), at("2026-12-01T10:00:05Z", -1)], now);
    const minute = (iso: string) => Date.parse(iso) / 1000;
    expect(xs).toEqual([minute("2026-12-01T09:30:00Z"), minute("2026-12-01T09:59:00Z"), minute("2026-12-01T10:00:00Z"), minute("2026-12-01T10:01:00Z")]);
    expect(speed).toEqual([null, 50, null, null]);
    expect(requests).toEqual([null, 2, 1, null]);
  });
});
