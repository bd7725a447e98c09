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
    rps64: { direct: 30000, nginx: 20000, modelswap: 22000 },
    p50_1: { direct: 0.05, nginx: 0.09, modelswap: 0.12 },
    ttfb: { direct: 0.5, nginx: 0.55, modelswap: 0.9 },
  };

  test.each([
    ["req/s, 64 connections, at least as good as nginx", true],
    ["added p50 latency, 1 conn ≤ nginx's", false],
    ["added time to first byte < 1 ms", true],
    ["readiness noticed < 50 ms", true],
    ["idle RSS < 50 MB", false],
  ])("%s → met %p", (target, met) => {
    const v = verdicts(m, 21, 61).find((x) => x.target === target);
    expect(v?.met).toBe(met);
  });
});
