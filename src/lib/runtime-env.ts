/**
 * Bun settings modelswap's `serve` runs with, read by Bun only at process
 * start (so `serve` re-executes itself once with them, src/cli/reexec.ts),
 * and kept out of the model servers' environments: they are modelswap's
 * runtime choices, not the operator's, and a Bun-based model server must
 * not inherit them.
 */

/**
 * What `serve` sets when it re-executes itself, unless the operator set it:
 * - `BUN_CONFIG_MAX_HTTP_REQUESTS`: Bun's outbound fetch runs at most 256
 *   requests at once by default; 65336 is its upper limit.
 * - `BUN_JSC_heapGrowthMaxIncrease=1`: the heap may grow to about twice what
 *   the last collection kept before the next one, not three times. JavaScriptCore
 *   lets a heap grow by up to `1 + heapGrowthMaxIncrease` (Bun's default 2) on
 *   machines with 16 GB of RAM or more, the machines model weights live on;
 *   below that it uses 2. Peak RSS under a 64-connection load 103.7 → 90.4
 *   MB, req/s and CPU per request within the noise (12 A/B pairs, bench/ab.ts).
 * - `BUN_JSC_useFTLJIT=0`: JavaScriptCore's last tier (FTL) is not used. A
 *   proxy's hot code is glue between native calls, which the tier below
 *   (DFG) compiles as well: at 64 connections req/s 1.048 and 1.033 ×, CPU
 *   per request 1.013 and 1.004 × (8 and 10 A/B pairs, bench/ab.ts), at 1
 *   connection req/s 1.057 ×; CPU per streamed token 0.88 × (4 runs,
 *   bench/stream-ab.ts). What it saves is memory: p99 0.91-0.92 ×, peak RSS
 *   under load 0.93 ×, and 30 s after the load 66.7 MB instead of 70.6
 *   (bench/mem-probe.ts): the FTL compiler's code pages and its output.
 *
 * Not set: `BUN_JSC_useGenerationalGC=0` (every collection a full one), the
 * default until the memory it saved was bounded otherwise (the heap growth
 * above, the captures out of the heap, the idle release in
 * src/http/idle-collect.ts). Bun's generational collector now, against full
 * collections: requests/s 1.061 and 1.062 ×, CPU per request 0.897 and 0.928
 * ×, p99 0.929 and 0.945 ×, peak 1.081 and 1.086 × (8 and 10 A/B pairs at 64
 * connections, bench/ab.ts); 30 s after the load, with the idle release,
 * idle + 15.8-17.9 MB in eight `npm run bench` runs against + 18.1-18.8 in
 * three before both.
 */
export const RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  BUN_CONFIG_MAX_HTTP_REQUESTS: "65336",
  BUN_JSC_heapGrowthMaxIncrease: "1",
  BUN_JSC_useFTLJIT: "0",
};

/** Names the variables the re-exec added (comma-separated), so they can be left out of children's environments. */
export const INJECTED_ENV = "MODELSWAP_RUNTIME_ENV";

/**
 * The environment to re-execute with: `env` plus each default it lacks, and
 * the list of what was added.
 *
 * @example
 * ```ts
 * withRuntimeDefaults({ PATH: "/bin", BUN_JSC_useFTLJIT: "1" });
 * // { PATH: "/bin", BUN_JSC_useFTLJIT: "1", BUN_CONFIG_MAX_HTTP_REQUESTS: "65336",
 * //   BUN_JSC_heapGrowthMaxIncrease: "1",
 * //   MODELSWAP_RUNTIME_ENV: "BUN_CONFIG_MAX_HTTP_REQUESTS,BUN_JSC_heapGrowthMaxIncrease" }
 * ```
 */
export function withRuntimeDefaults(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const added = Object.keys(RUNTIME_DEFAULTS).filter((k) => env[k] === undefined);
  const out: Record<string, string | undefined> = { ...env };
  for (const k of added) out[k] = RUNTIME_DEFAULTS[k];
  out[INJECTED_ENV] = added.join(",");
  return out;
}

/**
 * `env` without what modelswap's re-exec added to it (the names listed in
 * `MODELSWAP_RUNTIME_ENV`, and that variable): what a child modelswap starts
 * for the operator inherits.
 *
 * @example
 * ```ts
 * withoutRuntimeDefaults({ PATH: "/bin", BUN_JSC_useFTLJIT: "0", MODELSWAP_RUNTIME_ENV: "BUN_JSC_useFTLJIT" });
 * // { PATH: "/bin" }
 * ```
 */
export function withoutRuntimeDefaults(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const injected = env[INJECTED_ENV];
  if (injected === undefined) return env;
  const out: Record<string, string | undefined> = { ...env };
  delete out[INJECTED_ENV];
  for (const k of injected.split(",")) if (k !== "") delete out[k];
  return out;
}
