/**
 * What an operator sees of a real modelswap with fake-upstream models: the
 * request line and lifecycle lines on stdout (text and JSON), activity rows
 * with token counts, captures, cancelling a request in flight, `/metrics`
 * read by a Prometheus parser, truthful failed states, hardware and
 * performance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, startSwapServer, type SwapServer } from "./swap-harness.ts";

let tmp: ReturnType<typeof tempDir>;
let ms: SwapServer;

const BROKEN = `"sh -c 'echo loading broken.gguf on \${PORT}; echo out of memory >&2; exit 3'"`;

beforeAll(async () => {
  tmp = tempDir("modelswap-obs-");
  ms = await startSwapServer(tmp, {
    models: { a: "--tokens 8 --token-interval 20ms", b: "--tokens 200 --token-interval 50ms", broken: { cmd: BROKEN } },
    top: "logToStdout: both\ncaptureBuffer: 1",
  });
}, 30_000);

afterAll(async () => {
  await finishSwapFile(ms, tmp);
}, 60_000);

/** Waits until stdout has a line matching `re`, and returns it. */
async function stdoutLine(server: SwapServer, re: RegExp): Promise<string> {
  return poll(() => server.proc.stdout().split("\n").find((l) => re.test(l)), 10, { signal: AbortSignal.timeout(10_000) }).catch(() => {
    throw new Error(`No stdout line matches ${re}:\n${server.proc.stdout()}`);
  });
}

async function streamChat(model: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${ms.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "obs-test/1" },
    body: JSON.stringify({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "count the tokens please" }] }),
    ...(signal ? { signal } : {}),
  });
}

interface Row {
  id: number;
  model: string;
  req_path: string;
  resp_status_code: number;
  duration_ms: number;
  ttfb_ms: number;
  bytes: number;
  has_capture: boolean;
  error_msg?: string;
  tokens: { input_tokens: number; output_tokens: number };
}

describe("observability of a real modelswap", () => {
  test("a stream: one activity row with tokens from its last chunk, and a request line with its full duration, bytes, model and client", async () => {
    const res = await streamChat("a");
    const body = await res.text();
    expect(body).toContain("[DONE]");
    const page = (await (await fetch(`${ms.url}/api/metrics/activity?model=a`)).json()) as { data: Row[]; total: number };
    const row = page.data[0]!;
    expect(row).toMatchObject({ model: "a", req_path: "/v1/chat/completions", resp_status_code: 200, bytes: body.length, has_capture: true });
    expect(row.tokens).toMatchObject({ input_tokens: 4, output_tokens: 8 });
    // 8 tokens 20 ms apart: the stream lasted at least 140 ms, and the row says so.
    expect(row.duration_ms).toBeGreaterThanOrEqual(140);
    expect(row.ttfb_ms).toBeLessThan(row.duration_ms);

    const line = await stdoutLine(ms, /Request 127\.0\.0\.1 "POST \/v1\/chat\/completions HTTP\/1\.1" 200/);
    expect(line).toContain(` ${body.length} "obs-test/1" `);
    expect(line).toMatch(/ \d+\.\dms model=a$|\d+\.\d{3}s model=a$/);
    const ms_ = Number(/ (\d+\.\d)ms model=a$/.exec(line)?.[1] ?? 1000 * Number(/ (\d+\.\d{3})s model=a$/.exec(line)?.[1]));
    expect(ms_).toBeGreaterThanOrEqual(140);

    const capture = (await (await fetch(`${ms.url}/api/captures/${row.id}`)).json()) as { req_body: string; resp_body: string; req_path: string };
    expect(Buffer.from(capture.req_body, "base64").toString()).toContain("count the tokens please");
    expect(Buffer.from(capture.resp_body, "base64").toString()).toBe(body);

    const stats = (await (await fetch(`${ms.url}/api/metrics/stats?model=a`)).json()) as { total_requests: number; total_output_tokens: number };
    expect(stats).toMatchObject({ total_requests: 1, total_output_tokens: 8 });
  });

  test("lifecycle lines and upstream output tagged with the model id", async () => {
    await stdoutLine(ms, /^\[INFO\] \[a\] starting: .* fake-upstream --port \d+ .*\(port \d+\)$/);
    await stdoutLine(ms, /^\[INFO\] \[a\] ready after \d+\.\d\ds$/);
    await stdoutLine(ms, /^\[a\] /);
  });

  test("a request in flight is listed and can be cancelled; its row says so", async () => {
    const res = await streamChat("b");
    const reader = res.body!.getReader();
    await reader.read();
    const list = (await (await fetch(`${ms.url}/api/inflight`)).json()) as { requests: Array<{ id: string; model: string }> };
    const mine = list.requests.find((r) => r.model === "b")!;
    expect(mine).toBeDefined();
    const cancel = await fetch(`${ms.url}/api/inflight/${mine.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({ msg: "ok" });
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toContain("event: error");
    const again = await fetch(`${ms.url}/api/inflight/${mine.id}/cancel`, { method: "POST" });
    expect(again.status).toBe(404);
    const rows = ((await (await fetch(`${ms.url}/api/metrics/activity?model=b`)).json()) as { data: Row[] }).data;
    expect(rows[0]!.error_msg).toBeDefined();
    expect(rows[0]!.tokens.output_tokens).toBeLessThan(200);
  });

  test("a model that cannot start is failed/backoff in /running with its error, not stopped", async () => {
    const res = await fetch(`${ms.url}/api/models/load/broken`, { method: "POST" });
    expect(res.status).toBe(502);
    const running = (await (await fetch(`${ms.url}/running`)).json()) as { running: Array<{ model: string; state: string; error: string; retryAt: string }> };
    const broken = running.running.find((r) => r.model === "broken")!;
    expect(["failed", "backoff"]).toContain(broken.state);
    expect(broken.error).toContain("exit code 3");
    expect(broken.error).toContain("out of memory");
    expect(Date.parse(broken.retryAt)).not.toBeNaN();
    await stdoutLine(ms, /^\[ERROR\] \[broken\] start failed after \d+\.\d\ds: .*exit code 3.*last output: .*out of memory/);
  });

  test("/metrics is Prometheus text a real parser reads, with requests, tokens, states and starts", async () => {
    const res = await fetch(`${ms.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const families = parsePrometheusTextFormat(await res.text()) as Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string }> }>;
    const f = (name: string) => families.find((x) => x.name === name)!;
    const v = (name: string, labels: Record<string, string>) => Number(f(name).metrics.find((m) => Object.entries(labels).every(([k, x]) => m.labels?.[k] === x))?.value);
    expect(v("modelswap_requests_total", { model: "a", path: "/v1/chat/completions", status: "200" })).toBe(1);
    expect(v("modelswap_tokens_total", { model: "a", kind: "generated" })).toBe(8);
    // Three models in no group: each start swapped the previous one out.
    expect(v("modelswap_model_state", { model: "a", state: "stopped" })).toBe(1);
    expect(v("modelswap_model_state", { model: "broken", state: "failed" })).toBe(1);
    expect(v("modelswap_evictions_total", { model: "a", reason: "swap" })).toBe(1);
    expect(v("modelswap_model_starts_total", { model: "broken", outcome: "failed" })).toBe(1);
    expect(v("modelswap_model_starts_total", { model: "a", outcome: "ready" })).toBe(1);
    expect(f("modelswap_request_duration_seconds").type).toBe("HISTOGRAM");
    expect(v("modelswap_process_resident_memory_bytes", {})).toBeGreaterThan(0);
  });

  test("hardware and performance in llama-swap's shapes", async () => {
    const hw = (await (await fetch(`${ms.url}/api/hardware`)).json()) as { schema_version: number; memory: { capacity_bytes: number }; accelerators: unknown[] };
    expect(hw.schema_version).toBe(1);
    expect(hw.memory.capacity_bytes).toBeGreaterThan(0);
    expect(Array.isArray(hw.accelerators)).toBe(true);
    const perf = (await (await fetch(`${ms.url}/api/performance`)).json()) as { enabled: boolean; sys_stats: Array<{ mem_total_mb: number }> };
    expect(perf.enabled).toBe(true);
    expect(perf.sys_stats[0]!.mem_total_mb).toBeGreaterThan(0);
    const bad = await fetch(`${ms.url}/api/performance?after=yesterday`);
    expect(bad.status).toBe(400);
  });
});

describe("logFormat: json", () => {
  test("every stdout line is a JSON object; lifecycle lines carry their event and fields", async () => {
    const dir = tempDir("modelswap-obs-json-");
    const server = await startSwapServer(dir, { models: { j: "--tokens 2" }, top: "logFormat: json\nlogToStdout: both" });
    try {
      await (await server.chat("j")).text();
      const ready = await stdoutLine(server, /"event":"ready"/);
      expect(JSON.parse(ready)).toMatchObject({ level: "info", source: "proxy", model: "j", event: "ready", durationMs: expect.any(Number) });
      const req = await stdoutLine(server, /"event":"request"/);
      expect(JSON.parse(req)).toMatchObject({ level: "info", model: "j", method: "POST", path: "/v1/chat/completions", status: 200, client: "127.0.0.1" });
      await stdoutLine(server, /"source":"upstream"/);
      for (const l of server.proc.stdout().split("\n").filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
      await server.shutdown();
    } finally {
      // (A failure leaves the server to the file's afterAll, which cleans up every server started here.)
      dir.remove();
    }
  }, 30_000);
});
