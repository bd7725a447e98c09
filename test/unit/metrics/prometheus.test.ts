/** /metrics text, read back with a real Prometheus text parser. */
import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { MetricsHub } from "../../../src/metrics/index.ts";
import { noTokens } from "../../../src/metrics/tokens.ts";
import { readyLine, stopLine, crashedLine, startFailedLine } from "../../../src/scheduler/lifecycle-log.ts";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

async function scrape(hub: MetricsHub): Promise<Map<string, Family>> {
  const families = parsePrometheusTextFormat(await hub.prom.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

function value(f: Family | undefined, labels: Record<string, string>): number | undefined {
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m === undefined ? undefined : Number(m.value ?? m.count);
}

describe("Prometheus exposition", () => {
  test("requests, latency, TTFB and tokens by model from activity rows", async () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 0 });
    const tokens = { ...noTokens(), input_tokens: 12, output_tokens: 30, tokens_per_second: 42 };
    hub.record({ timestamp: new Date().toISOString(), model: "llama", req_path: "/v1/chat/completions", resp_content_type: "text/event-stream", resp_status_code: 200, tokens, duration_ms: 1500, ttfb_ms: 250, bytes: 900 });
    hub.record({ timestamp: new Date().toISOString(), model: "llama", req_path: "/upstream/llama/props", resp_content_type: "application/json", resp_status_code: 502, tokens: noTokens(), duration_ms: 3, ttfb_ms: 3, bytes: 10 });
    const m = await scrape(hub);
    expect(m.get("modelswap_requests_total")?.type).toBe("COUNTER");
    expect(value(m.get("modelswap_requests_total"), { model: "llama", path: "/v1/chat/completions", status: "200" })).toBe(1);
    expect(value(m.get("modelswap_requests_total"), { model: "llama", path: "/upstream", status: "502" })).toBe(1);
    expect(value(m.get("modelswap_tokens_total"), { model: "llama", kind: "prompt" })).toBe(12);
    expect(value(m.get("modelswap_tokens_total"), { model: "llama", kind: "generated" })).toBe(30);
    // The parser flattens labelled histograms (it keeps only the type): their samples are read from the text.
    expect(m.get("modelswap_request_duration_seconds")?.type).toBe("HISTOGRAM");
    const text = await hub.prom.text();
    expect(text).toContain('modelswap_request_duration_seconds_bucket{le="1",model="llama",path="/v1/chat/completions"} 0');
    expect(text).toContain('modelswap_request_duration_seconds_bucket{le="2.5",model="llama",path="/v1/chat/completions"} 1');
    expect(text).toContain('modelswap_request_duration_seconds_sum{model="llama",path="/v1/chat/completions"} 1.5');
    expect(text).toContain('modelswap_time_to_first_byte_seconds_sum{model="llama",path="/v1/chat/completions"} 0.25');
    expect(text).toContain('modelswap_generation_tokens_per_second_count{model="llama"} 1');
  });

  test("model states, in-flight and queued gauges, starts, swaps, crashes, restarts and evictions from scheduler events", async () => {
    const hub = new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 0 });
    hub.observeEvent({ kind: "modelState", model: "a", state: "ready", previous: "starting" });
    hub.observeEvent({ kind: "inflight", model: "a", inFlight: 2, queued: 3 });
    hub.observeEvent(readyLine("a", 2500));
    hub.observeEvent(startFailedLine("b", 100, "exit code 1"));
    hub.observeEvent(crashedLine("a", 1000, "signal SIGKILL"));
    hub.observeEvent({ kind: "modelState", model: "a", state: "starting", previous: "failed" });
    hub.observeEvent(stopLine("a", "swap", { ttl: 0, healthTimeoutS: 15, forModel: "b" }));
    hub.observeEvent(stopLine("a", "ttl", { ttl: 60, healthTimeoutS: 15 }));
    const m = await scrape(hub);
    expect(value(m.get("modelswap_model_state"), { model: "a", state: "starting" })).toBe(1);
    expect(value(m.get("modelswap_model_state"), { model: "a", state: "ready" })).toBe(0);
    expect(value(m.get("modelswap_requests_in_flight"), { model: "a" })).toBe(2);
    expect(value(m.get("modelswap_requests_queued"), { model: "a" })).toBe(3);
    expect(value(m.get("modelswap_model_starts_total"), { model: "a", outcome: "ready" })).toBe(1);
    expect(value(m.get("modelswap_model_starts_total"), { model: "b", outcome: "failed" })).toBe(1);
    expect(value(m.get("modelswap_swaps_total"), { model: "a" })).toBe(1);
    expect(await hub.prom.text()).toContain('modelswap_swap_duration_seconds_sum{model="a"} 2.5');
    expect(value(m.get("modelswap_model_crashes_total"), { model: "a" })).toBe(1);
    expect(value(m.get("modelswap_model_restarts_total"), { model: "a" })).toBe(1);
    expect(value(m.get("modelswap_evictions_total"), { model: "a", reason: "swap" })).toBe(1);
    expect(value(m.get("modelswap_evictions_total"), { model: "a", reason: "ttl" })).toBe(1);
  });

  test("the proxy's own CPU and memory", async () => {
    const m = await scrape(new MetricsHub({ metricsMaxInMemory: 10, captureBuffer: 0 }));
    expect(value(m.get("modelswap_process_resident_memory_bytes"), {})).toBeGreaterThan(1_000_000);
    expect(value(m.get("modelswap_process_cpu_seconds_total"), {})).toBeGreaterThan(0);
    expect(m.get("modelswap_process_cpu_seconds_total")?.type).toBe("COUNTER");
  });
});
