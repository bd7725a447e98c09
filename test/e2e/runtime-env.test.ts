/**
 * serve re-executes itself with Bun's settings (src/lib/runtime-env.ts); they
 * stay modelswap's own: its model servers do not inherit them, while what the
 * operator set reaches both.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { tempDir } from "../helpers/configs.ts";
import { postChat } from "../helpers/chat.ts";
import { cleanupProcesses, findPids, freePortRange, startModelswap } from "../helpers/processes.ts";

const tmp = tempDir("modelswap-runtime-env-");
afterEach(cleanupProcesses);
afterAll(tmp.remove);

/** The environment of `pid` as name → value. */
function environ(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, "latin1").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

async function startWithModel(env: Record<string, string>): Promise<{ ms: Record<string, string>; model: Record<string, string> }> {
  const port = freePortRange(1);
  const file = tmp.write(`env-${port}.yaml`, `startPort: ${port}\nmodels:\n  a:\n    cmd: \${MODELSWAP} fake-upstream --port \${PORT}\n`);
  const ms = await startModelswap(["--config", file], { env });
  expect((await postChat(ms.url, "a")).status).toBe(200);
  const [model] = findPids(`--port ${port} `);
  expect(model).toBeNumber();
  return { ms: environ(ms.pid), model: environ(model!) };
}

test("serve runs with Bun's settings; its model servers do not inherit them", async () => {
  const { ms, model } = await startWithModel({});
  expect(ms.BUN_CONFIG_MAX_HTTP_REQUESTS).toBe("65336");
  expect(ms.BUN_JSC_useGenerationalGC).toBe("0");
  expect(ms.BUN_JSC_heapGrowthMaxIncrease).toBe("1");
  expect(ms.BUN_JSC_useFTLJIT).toBe("0");
  expect(model.BUN_CONFIG_MAX_HTTP_REQUESTS).toBeUndefined();
  expect(model.BUN_JSC_useGenerationalGC).toBeUndefined();
  expect(model.BUN_JSC_heapGrowthMaxIncrease).toBeUndefined();
  expect(model.BUN_JSC_useFTLJIT).toBeUndefined();
  expect(model.MODELSWAP_RUNTIME_ENV).toBeUndefined();
});

test("a setting the operator chose is kept, for modelswap and its model servers alike", async () => {
  const { ms, model } = await startWithModel({ BUN_JSC_useGenerationalGC: "1" });
  expect(ms.BUN_JSC_useGenerationalGC).toBe("1");
  expect(model.BUN_JSC_useGenerationalGC).toBe("1");
  expect(ms.BUN_CONFIG_MAX_HTTP_REQUESTS).toBe("65336");
  expect(model.BUN_CONFIG_MAX_HTTP_REQUESTS).toBeUndefined();
});
