/**
 * The benchmark's pure parts: wrk output parsing and the verdicts.
 */
import { describe, expect, test } from "bun:test";
import { verdicts } from "../../../bench/report.ts";
import { parseWrk } from "../../../bench/wrk.ts";

const WRK_OUTPUT = `Running 5s test @ http://127.0.0.1:8080/v1/chat/completions
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  512.00us  18.32ms   91.20%
    Req/Sec    15.23k     1.02k   17.00k    70.00%
  Latency Distribution
     50%    2.07ms
     75%    2.30ms
     90%  750.00us
     99%    1.02s
  151234 requests in 5.00s, 80.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  30246.80
Transfer/sec:     16.02MB
`;

describe("parseWrk", () => {
  test("reads requests/s, percentiles in ms and errors from wrk --latency output", () => {
    expect(parseWrk(WRK_OUTPUT)).toEqual({ rps: 30246.8, p50Ms: 2.07, p99Ms: 1020, requests: 151234, errors: 7 });
  });

  test("converts microseconds", () => {
    expect(parseWrk(WRK_OUTPUT.replace("2.07ms", "49.00us")).p50Ms).toBeCloseTo(0.049, 6);
  });

  test("throws when the output has no latency distribution", () => {
    expect(() => parseWrk("Requests/sec: 1\n1 requests in 1s")).toThrow("Cannot parse wrk output: no 50% line");
  });
});

describe("verdicts", () => {
  const m = {
    rps1: { direct: 14000, nginx: 8000, "bun-proxy": 4000, modelswap: 3900 },
    rps64: { direct: 30000, nginx: 20000, "bun-proxy": 13000, modelswap: 13500 },
    p50_1: { direct: 0.05, nginx: 0.09, modelswap: 0.12 },
    p99_64: { direct: 4, nginx: 8, modelswap: 17 },
    ttfb: { direct: 0.5, nginx: 0.55, modelswap: 0.7 },
  };
  const f = {
    idleMb: 52,
    peak64Mb: 90,
    settledMb: 70,
    streams: { requested: 100, opened: 100, kbPerStream: 24 },
    readinessMs: 2.5,
    workerShare: { worker: 20, main: 100, total: 250 },
  };

  test.each([
    ["req/s at 64 connections ≥ the bare Bun proxy's", true],
    ["req/s at 64 connections ≥ 0.6 × nginx's", true],
    ["req/s at 1 connection ≥ 0.5 × nginx's", false],
    ["added p50 latency at 1 connection ≤ 0.10 ms", true],
    ["SSE time to first byte added ≤ 0.30 ms", true],
    ["p99 at 64 connections ≤ 2 × nginx's", false],
    ["RSS idle ≤ 45 MB", false],
    ["peak RSS during the 64-connection load ≤ 100 MB", true],
    ["RSS 30 s after the load within 20 MB of idle", true],
    ["100 concurrent open streams work, ≤ 25 KB each", true],
    ["cold start: first byte ≤ 3 ms after the health check first passes", true],
    ["the scheduler Worker is not the bottleneck (its thread busier than the main thread)", true],
  ])("%s → met %p", (target, met) => {
    const v = verdicts(m, f).find((x) => x.target === target);
    expect(v?.met).toBe(met);
  });

  test("the memory rows name the bare Bun proxy's figures beside modelswap's", () => {
    const v = verdicts(m, { ...f, bare: { idleMb: 28.4, peak64Mb: 51.9, settledMb: 42.4 } });
    expect(v.find((x) => x.target === "RSS idle ≤ 45 MB")?.detail).toBe("52.0 MB; bare Bun proxy 28.4 MB");
    expect(v.find((x) => x.target.startsWith("peak RSS"))?.detail).toBe("90.0 MB; bare Bun proxy 51.9 MB");
    expect(v.find((x) => x.target.startsWith("RSS 30 s"))?.detail).toBe("70.0 MB (idle + 18.0 MB); bare Bun proxy idle + 14.0 MB");
  });

  test("the idle row names the compiled binary's figure when it was measured; the verdict stays the source run's", () => {
    const v = verdicts(m, { ...f, binaryIdleMb: 44.5, bare: { idleMb: 28.4 } }).find((x) => x.target === "RSS idle ≤ 45 MB");
    expect(v?.detail).toBe("52.0 MB; the compiled binary 44.5 MB; bare Bun proxy 28.4 MB");
    expect(v?.met).toBe(false);
  });

  test("a stream count short of the request is not met, whatever the size", () => {
    const v = verdicts(m, { streams: { requested: 100, opened: 99, kbPerStream: 1 } });
    expect(v.find((x) => x.target.includes("streams"))?.met).toBe(false);
  });
});
