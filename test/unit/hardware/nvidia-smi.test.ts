import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseNvidiaSmi, queryGpus, queryGpusSync, totalVramBytes } from "../../../src/hardware/index.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/nvidia-smi");
const fixture = (name: string) => Bun.file(join(FIXTURES, name)).text();
const MIB = 1024 * 1024;

describe("parseNvidiaSmi()", () => {
  test("one GPU: memory in bytes, utilization and temperature as numbers", async () => {
    expect(parseNvidiaSmi(await fixture("single-rtx4090.csv"))).toEqual([
      { index: 0, name: "NVIDIA GeForce RTX 4090", memoryTotalBytes: 24564 * MIB, memoryUsedBytes: 1043 * MIB, memoryFreeBytes: 23114 * MIB, utilizationPercent: 3, temperatureC: 41 },
    ]);
  });

  test("four GPUs: each listed in order, totals summed", async () => {
    const gpus = parseNvidiaSmi(await fixture("multi-a100x4.csv"));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3]);
    expect(gpus[1]?.utilizationPercent).toBe(97);
    expect(totalVramBytes(gpus)).toBe(4 * 81920 * MIB);
  });

  test("[N/A] and [Not Supported] fields are null, the rest still read", async () => {
    const gpus = parseNvidiaSmi(await fixture("na-fields.csv"));
    expect(gpus[0]).toMatchObject({ name: "NVIDIA GH200 480GB", memoryTotalBytes: 97871 * MIB, memoryUsedBytes: null, memoryFreeBytes: null, utilizationPercent: null, temperatureC: 29 });
    expect(gpus[1]).toMatchObject({ name: "Tesla T4", memoryUsedBytes: 0, utilizationPercent: null, temperatureC: null });
    expect(totalVramBytes(gpus)).toBe((97871 + 15360) * MIB);
  });

  test("a name with a comma is kept whole", async () => {
    expect(parseNvidiaSmi(await fixture("name-with-comma.csv"))[0]).toMatchObject({ name: "NVIDIA RTX A6000, Ada", memoryTotalBytes: 49140 * MIB });
  });

  test("the driver's failure message and empty output list no GPU", async () => {
    expect(parseNvidiaSmi(await fixture("driver-failed.txt"))).toEqual([]);
    expect(parseNvidiaSmi("")).toEqual([]);
  });

  test("a GPU with no reported total counts as 0 in the total", () => {
    expect(totalVramBytes(parseNvidiaSmi("0, X, [N/A], 0, 0, 0, 0\n1, Y, 1024, 0, 1024, 0, 0"))).toBe(1024 * MIB);
  });
});

describe("queryGpus() and queryGpusSync() run the command", () => {
  const dir = mkdtempSync(join(tmpdir(), "modelswap-smi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in nvidia-smi that prints a fixture and exits with `code`. */
  function fakeSmi(name: string, code = 0): string {
    const path = join(dir, `${name}-${code}.sh`);
    writeFileSync(path, `#!/bin/sh\ncat '${join(FIXTURES, name)}'\nexit ${code}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  test("present: GPUs and total VRAM, both ways", async () => {
    const command = fakeSmi("multi-a100x4.csv");
    const expected = { present: true, totalVramBytes: 4 * 81920 * MIB };
    expect(await queryGpus({ command })).toMatchObject(expected);
    expect(queryGpusSync({ command })).toMatchObject(expected);
    expect(queryGpusSync({ command }).gpus).toHaveLength(4);
  });

  test("not installed: present false, the reason names the command", async () => {
    const command = join(dir, "no-such-nvidia-smi");
    expect(await queryGpus({ command })).toEqual({ present: false, gpus: [], totalVramBytes: 0, reason: `${command} not found on PATH` });
    expect(queryGpusSync({ command }).reason).toBe(`${command} not found on PATH`);
  });

  test("driver not answering: present false, the reason has the exit status and the message", async () => {
    const command = fakeSmi("driver-failed.txt", 9);
    for (const r of [await queryGpus({ command }), queryGpusSync({ command })]) {
      expect(r.present).toBe(false);
      expect(r.reason).toContain("exited with 9: NVIDIA-SMI has failed");
    }
  });
});
