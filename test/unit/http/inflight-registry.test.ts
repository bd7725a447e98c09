/** The two per-request registries of the proxy: requests in flight (what a drain waits for) and open requests (what a cancel finds). */
import { describe, expect, test } from "bun:test";
import { InflightTracker } from "../../../src/http/forward/inflight.ts";
import { RequestRegistry } from "../../../src/http/forward/requests.ts";

describe("InflightTracker", () => {
  test("idle() waits for the last entry; a second remove, or one of an entry never added, changes nothing", async () => {
    let ended = 0;
    const inflight = new InflightTracker(() => ended++);
    const a = { end() {} };
    const b = { end() {} };
    inflight.add(a);
    inflight.add(b);
    let idle = false;
    const waiting = inflight.idle().then(() => (idle = true));
    inflight.remove(a);
    inflight.remove(a);
    inflight.remove({ end() {} });
    await Promise.resolve();
    expect({ size: inflight.size, ended, idle }).toEqual({ size: 1, ended: 1, idle: false });
    inflight.remove(b);
    await waiting;
    expect({ size: inflight.size, ended, idle }).toEqual({ size: 0, ended: 2, idle: true });
  });

  test("endAll ends every entry with the reason, each once", () => {
    const inflight = new InflightTracker();
    const reasons: string[] = [];
    // An entry that removes itself as it ends (as a response does) must not stop the others from ending.
    const self = { end: (r: string) => (reasons.push(`self: ${r}`), inflight.remove(self)) };
    inflight.add(self);
    inflight.add({ end: (r) => reasons.push(`other: ${r}`) });
    inflight.endAll("shutting down");
    expect(reasons).toEqual(["self: shutting down", "other: shutting down"]);
  });
});

describe("RequestRegistry", () => {
  test("a request is listed and cancellable until removed; ids are never reused", () => {
    const requests = new RequestRegistry();
    const abort = new AbortController();
    const id = requests.add({ model: "llama", path: "/v1/chat/completions", client: "10.0.0.2", startedAt: Date.UTC(2026, 11, 3) }, abort);
    expect(requests.list()).toEqual([{ id: String(id), model: "llama", path: "/v1/chat/completions", client: "10.0.0.2", started_at: "2026-12-03T00:00:00.000Z" }]);
    requests.remove(id);
    expect(requests.list()).toEqual([]);
    expect(requests.cancel(String(id))).toBe(false);
    expect(abort.signal.aborted).toBe(false);
    const next = requests.add({ model: "llama", path: "/v1/chat/completions", client: "-", startedAt: 0 }, abort);
    expect(next).toBeGreaterThan(id);
    expect(requests.cancel(String(next))).toBe(true);
    expect(abort.signal.reason).toBeInstanceOf(Error);
    expect(requests.list()).toEqual([]);
  });
});
