/**
 * The two sides of an A/B script (`bench/ab.ts`, `bench/stream-ab.ts`,
 * `bench/alloc.ts`): the options that name each side's source tree and
 * environment, reading them, and starting modelswap from a tree.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, start, waitHttp } from "./children.ts";
import { chat } from "./probes.ts";

/** `parseArgs` options: `--a DIR`, `--b DIR`, `--a-env K=V ...`, `--b-env K=V ...`. */
export const SIDE_OPTIONS = {
  a: { type: "string", default: "." },
  b: { type: "string", default: "." },
  "a-env": { type: "string", multiple: true, default: [] as string[] },
  "b-env": { type: "string", multiple: true, default: [] as string[] },
} as const;

/** `K=V` arguments as an environment (the value may hold `=`). */
export function envOf(kvs: string[]): Record<string, string> {
  return Object.fromEntries(kvs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

/**
 * Starts modelswap from the source tree `root` with one fake-upstream model
 * `bench` (20 tokens, no delay) and `configLines` added to its config, and
 * waits until it answered one chat.
 */
export async function startTree(tmp: string, name: string, root: string, env: Record<string, string>, configLines: string[]) {
  const port = freePort();
  const up = freePort();
  const cfg = join(tmp, `${name}.yaml`);
  const model = [`    cmd: \${MODELSWAP} fake-upstream --port ${up} --tokens 20 --token-interval 0ms`, `    proxy: http://127.0.0.1:${up}`, "    ttl: 0", "    concurrencyLimit: 20000"];
  writeFileSync(cfg, ["healthCheckTimeout: 30", "sendLoadingState: false", ...configLines, "models:", "  bench:", ...model, ""].join("\n"));
  const argv = [process.execPath, join(resolve(root), "src/main.ts"), "--config", cfg, "--listen", `127.0.0.1:${port}`, "--state-dir", join(tmp, `${name}-state`)];
  const child = start(name, argv, join(tmp, `${name}.log`), env);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(child, `${url}/v1/models`, 20_000);
  await chat(url, "bench", AbortSignal.timeout(60_000));
  return { child, url };
}
