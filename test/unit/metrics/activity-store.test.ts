/** `store.path`: Activity rows written to SQLite survive a new MetricsHub (a restart); ids continue, captures do not persist. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ActivityStore } from "../../../src/metrics/activity-store.ts";
import { MetricsHub } from "../../../src/metrics/metrics-hub.ts";
import { DEFAULT_QUERY, type NewActivity } from "../../../src/metrics/activity.ts";
import { noTokens } from "../../../src/metrics/tokens.ts";
import { tempDir } from "../../helpers/configs.ts";

const tmp = tempDir("modelswap-store-");
afterAll(tmp.remove);

const row = (model: string): NewActivity => ({
  timestamp: new Date(Date.UTC(2026, 11, 1)).toISOString(), model, req_path: "/v1/chat/completions", resp_content_type: "application/json",
  resp_status_code: 200, tokens: { ...noTokens(), input_tokens: 7, output_tokens: 3 }, duration_ms: 10, ttfb_ms: 5, bytes: 100,
});
const config = { metricsMaxInMemory: 2, captureBuffer: 1 };

describe("ActivityStore", () => {
  test("rows recorded by one hub are back in the next one, newest metricsMaxInMemory of them; ids go on", () => {
    const path = join(tmp.path, "a.db");
    const first = new ActivityStore(path);
    const hub = new MetricsHub(config, first);
    for (const m of ["a", "b", "c"]) hub.record(row(m), { reqPath: "/v1/chat/completions", reqHeaders: {}, reqBody: new Uint8Array(), respHeaders: {}, respBody: new Uint8Array() });
    first.close();

    const second = new ActivityStore(path);
    const again = new MetricsHub(config, second);
    expect(again.activity.all().map((e) => [e.id, e.model, e.has_capture])).toEqual([
      [2, "b", false],
      [3, "c", false],
    ]);
    expect(again.activity.stats("").total_input_tokens).toBe(14);
    expect(again.record(row("d")).id).toBe(4);
    expect(again.activity.list(DEFAULT_QUERY).data.map((e) => e.model)).toEqual(["d", "c"]);
    second.close();
  });

  test("an empty store starts at id 1", () => {
    const store = new ActivityStore(join(tmp.path, "empty.db"));
    expect(store.lastId()).toBe(0);
    expect(new MetricsHub(config, store).record(row("a")).id).toBe(1);
    store.close();
  });

  test("a file that is not SQLite cannot be opened", () => {
    const bad = tmp.write("not-sqlite.db", "this is not a database, just text long enough to have a header page".repeat(20));
    expect(() => new ActivityStore(bad)).toThrow();
  });
});
