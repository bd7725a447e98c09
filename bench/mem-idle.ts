/**
 * Idle memory of modelswap: starts it `--runs` times with the benchmark's
 * config and prints RSS (RssAnon + RssFile) when it first answers
 * `/v1/models` (what `npm run bench` reports as idle) and 2 s later.
 *
 *   ./node_modules/.bin/bun bench/mem-idle.ts [--runs 3] [--binary PATH] [--env K=V ...]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installCleanup, stop } from "./children.ts";
import { startModelswap, writeModelswapConfig } from "./targets.ts";

const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    binary: { type: "string" },
    env: { type: "string", multiple: true, default: [] },
  },
});

function status(pid: number): string {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const mb = (k: string) => (Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1]) / 1024).toFixed(1);
  return `RSS ${mb("VmRSS")} MB (anon ${mb("RssAnon")}, file ${mb("RssFile")})`;
}

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "modelswap-memidle-"));
const env: Record<string, string> = {};
for (const kv of opts.env) env[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
const cfg = join(tmp, "config.yaml");
writeModelswapConfig(cfg, [
  { id: "bench", flags: { tokens: 20, tokenInterval: "0" } },
  { id: "stream", flags: { tokens: 20, tokenInterval: "5ms" } },
  { id: "hold", flags: { tokens: 1000, tokenInterval: "1s" } },
]);
for (let i = 0; i < Number(opts.runs); i++) {
  const ms = await startModelswap(tmp, `modelswap-${i}`, cfg, opts.binary ?? null, env);
  const ready = status(ms.child.pid);
  await Bun.sleep(2000);
  console.log(`run ${i + 1}: ready ${ready}; +2 s ${status(ms.child.pid)}`);
  await stop(ms.child);
}
