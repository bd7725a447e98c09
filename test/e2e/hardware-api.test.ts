/**
 * `/api/hardware` and `/api/performance` with GPUs as nvidia-smi reports
 * them: `src/hardware`'s real query runs a stand-in `nvidia-smi` that prints
 * a captured output (test/fixtures/nvidia-smi).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { queryGpus } from "../../src/hardware/index.ts";
import { config } from "../unit/http/config-fixture.ts";
import { makeDeps, serve } from "../unit/http/helpers.ts";
import { tempDir } from "../helpers/configs.ts";
import { REPO_ROOT } from "../helpers/processes.ts";

const tmp = tempDir("modelswap-hw-");
afterAll(() => tmp.remove());

/** An executable that prints `fixture` and exits with `code`, as nvidia-smi would. */
function fakeNvidiaSmi(fixture: string, code = 0): string {
  const path = tmp.write(`nvidia-smi-${fixture}`, `#!/bin/sh\ncat '${REPO_ROOT}/test/fixtures/nvidia-smi/${fixture}'\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

function app(command: string, over: Parameters<typeof config>[1] = { performance: { disabled: false, every: "5s" } }) {
  const deps = { ...makeDeps(config({ llama: {} }, over)), queryGpus: () => queryGpus({ command }) };
  return { request: serve(deps) };
}

describe("/api/hardware", () => {
  test("four A100s become four accelerators with their memory", async () => {
    const res = await app(fakeNvidiaSmi("multi-a100x4.csv")).request("/api/hardware");
    expect(res.status).toBe(200);
    const hw = (await res.json()) as { schema_version: number; accelerators: Array<{ index: number; vendor: string; model: string; memory: { capacity_bytes: number } }> };
    expect(hw.schema_version).toBe(1);
    expect(hw.accelerators.map((a) => [a.index, a.vendor, a.model, a.memory.capacity_bytes])).toEqual(
      [0, 1, 2, 3].map((i) => [i, "NVIDIA", "NVIDIA A100-SXM4-80GB", 81920 * 1024 * 1024]),
    );
  });

  test("a driver that does not answer: no accelerator, and why", async () => {
    const res = await app(fakeNvidiaSmi("driver-failed.txt", 9)).request("/api/hardware");
    const hw = (await res.json()) as { accelerators: unknown[]; accelerators_reason: string };
    expect(hw.accelerators).toEqual([]);
    expect(hw.accelerators_reason).toContain("exited with 9");
  });
});

describe("/api/performance", () => {
  test("GPU samples from nvidia-smi and system samples from /proc", async () => {
    const res = await app(fakeNvidiaSmi("single-rtx4090.csv")).request("/api/performance");
    const perf = (await res.json()) as { enabled: boolean; sys_stats: Array<{ mem_total_mb: number; cpu_util_per_core: number[] }>; gpu_stats: Array<{ name: string; mem_total_mb: number }> };
    expect(perf.enabled).toBe(true);
    expect(perf.sys_stats).toHaveLength(1);
    expect(perf.sys_stats[0]!.mem_total_mb).toBeGreaterThan(0);
    expect(perf.gpu_stats).toMatchObject([{ name: "NVIDIA GeForce RTX 4090", mem_total_mb: 24564 }]);
    const later = await app(fakeNvidiaSmi("single-rtx4090.csv")).request(`/api/performance?after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(((await later.json()) as { sys_stats: unknown[] }).sys_stats).toEqual([]);
  });

  test("performance.disabled answers 503 {enabled:false}, as llama-swap", async () => {
    const res = await app(fakeNvidiaSmi("single-rtx4090.csv"), { performance: { disabled: true, every: "5s" } }).request("/api/performance");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ enabled: false });
  });
});
