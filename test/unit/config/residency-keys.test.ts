/** modelswap's residency and watchdog keys: resources, watchdog, maxLoaded, maxSwapWait. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../helpers/configs.ts";
import { load, onlyIssue } from "./helpers.ts";

const MODEL = "models:\n  m:\n    cmd: s --port ${PORT}\n";

describe("residency and watchdog keys", () => {
  test("sizes in GiB, GB and MiB become bytes; undeclared is 0 per model and null globally", () => {
    const c = load(`resources:\n  ram: 64GB\n${MODEL}    resources:\n      vram: 12GiB\n      ram: 512MiB\n  n:\n    cmd: s --port \${PORT}\n`);
    expect(c.resources).toEqual({ vram: null, ram: 64e9 });
    expect(c.models.m?.resources).toEqual({ vram: 12 * 2 ** 30, ram: 512 * 2 ** 20 });
    expect(c.models.n?.resources).toEqual({ vram: 0, ram: 0 });
  });

  test("a bad size names the key", () => {
    expect(onlyIssue(`${MODEL}    resources:\n      vram: lots\n`)).toMatchObject({ path: "models.m.resources.vram", line: 5 });
  });

  test("watchdog: the global values, overridden per model", () => {
    const c = load(`watchdog:\n  stallTimeout: 30\n  busyTimeout: 120\n${MODEL}    watchdog:\n      stallTimeout: 5\n  n:\n    cmd: s --port \${PORT}\n`);
    expect(c.watchdog).toEqual({ stallTimeout: 30, busyTimeout: 120 });
    expect(c.models.m?.watchdog).toEqual({ stallTimeout: 5, busyTimeout: 120 });
    expect(c.models.n?.watchdog).toEqual({ stallTimeout: 30, busyTimeout: 120 });
  });

  test("maxLoaded and maxSwapWait live under routing", () => {
    const c = load(`routing:\n  router:\n    settings:\n      maxLoaded: 2\n  scheduler:\n    settings:\n      fifo:\n        maxSwapWait: 30\n${MODEL}`);
    expect([c.maxLoaded, c.maxSwapWait]).toEqual([2, 30]);
  });

  describe("vram: auto", () => {
    const tmp = tempDir("modelswap-vram-");
    afterAll(tmp.remove);
    const withSmi = (script: string, fn: () => void) => {
      const path = tmp.write(`smi-${Math.random()}.sh`, script);
      chmodSync(path, 0o755);
      const before = process.env.MODELSWAP_NVIDIA_SMI;
      process.env.MODELSWAP_NVIDIA_SMI = path;
      try {
        fn();
      } finally {
        if (before === undefined) delete process.env.MODELSWAP_NVIDIA_SMI;
        else process.env.MODELSWAP_NVIDIA_SMI = before;
      }
    };
    const fixture = join(import.meta.dir, "../../fixtures/nvidia-smi");

    test("reads the total of every GPU from nvidia-smi", () => {
      withSmi(`#!/bin/sh\ncat '${fixture}/multi-a100x4.csv'\n`, () => {
        expect(load(`resources:\n  vram: auto\n${MODEL}`).resources.vram).toBe(4 * 81920 * 2 ** 20);
      });
    });

    test("is a config error naming the reason when nvidia-smi does not answer", () => {
      withSmi(`#!/bin/sh\ncat '${fixture}/driver-failed.txt'\nexit 9\n`, () => {
        const issue = onlyIssue(`resources:\n  vram: auto\n${MODEL}`);
        expect(issue.path).toBe("resources.vram");
        expect(issue.message).toContain('Set vram to a size like "24GiB": "auto" needs nvidia-smi');
        expect(issue.message).toContain("exited with 9: NVIDIA-SMI has failed");
      });
    });
  });
});

describe("replicas", () => {
  const text = "startPort: 9000\nmodels:\n  a:\n    cmd: s --port ${PORT}\n  m:\n    cmd: s --port ${PORT} --slot ${SLOT}\n    env: [\"CUDA_VISIBLE_DEVICES=${SLOT}\"]\n    aliases: [mm]\n    replicas: 2\n  z:\n    cmd: s --port ${PORT}\n";

  test("each replica is an unlisted entry with its own ${PORT} and a one-based ${SLOT}", () => {
    const c = load(text);
    expect(c.models.m?.replicas).toEqual(["m@1", "m@2"]);
    expect(c.models["m@1"]).toMatchObject({ id: "m@1", replicaOf: "m", unlisted: true, aliases: [], port: 9001, cmd: ["s", "--port", "9001", "--slot", "1"], env: { CUDA_VISIBLE_DEVICES: "1" } });
    expect(c.models["m@2"]).toMatchObject({ id: "m@2", replicaOf: "m", port: 9002, cmd: ["s", "--port", "9002", "--slot", "2"], env: { CUDA_VISIBLE_DEVICES: "2" }, proxy: "http://127.0.0.1:9002" });
    expect([c.models.a?.port, c.models.z?.port]).toEqual([9000, 9003]);
    expect(c.models.m?.aliases).toEqual(["mm"]);
  });

  test("${SLOT} is 1 for a model without replicas", () => {
    expect(load("models:\n  m:\n    cmd: s --port ${PORT} --slot ${SLOT}\n").models.m?.cmd).toEqual(["s", "--port", "5800", "--slot", "1"]);
  });

  test("a model id that a replica would take is an error", () => {
    expect(onlyIssue(`${text}  m@2:\n    cmd: s --port \${PORT}\n`)).toMatchObject({ path: "models.m@2", message: "Rename the model: `m@2` is the id of replica 2 of `m`" });
  });
});
