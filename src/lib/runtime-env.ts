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
 * - `BUN_JSC_useGenerationalGC=0`: every collection is a full one. The
 *   generational collector promotes the objects of requests in flight and
 *   frees them only at a rare full collection: peak RSS under a 64-connection
 *   load 104-126 MB instead of 151-202 MB (22 A/B pairs), at about -5 % req/s.
 *   A proxy beside model weights should not grow by 100 MB in a burst.
 *   Re-measured with the idle release (src/http/idle-collect.ts), FTL off and
 *   the captures out of the heap: in bench/ab.ts pairs the generational
 *   collector did better (requests/s 1.061 and 1.062 ×, CPU per request
 *   0.897 and 0.928 ×, peak 1.081 and 1.086 ×; 8 and 10 pairs), but in
 *   `npm run bench` runs paired in the same minutes it did worse at 64
 *   connections in 4 of 4 pairs (modelswap/bare Bun 0.48 against 0.62,
 *   0.48 against 0.66, 0.47 against 0.56, 0.64 against 0.69), where two
 *   builds that differed in nothing that ran gave 0.50 against 0.59 and
 *   0.60 against 0.60. Not settled, so the lower peak stays.
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
 */
export const RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  BUN_CONFIG_MAX_HTTP_REQUESTS: "65336",
  BUN_JSC_useGenerationalGC: "0",
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
 * withRuntimeDefaults({ PATH: "/bin", BUN_JSC_useGenerationalGC: "1" });
 * // { PATH: "/bin", BUN_JSC_useGenerationalGC: "1", BUN_CONFIG_MAX_HTTP_REQUESTS: "65336",
 * //   BUN_JSC_heapGrowthMaxIncrease: "1", BUN_JSC_useFTLJIT: "0",
 * //   MODELSWAP_RUNTIME_ENV: "BUN_CONFIG_MAX_HTTP_REQUESTS,BUN_JSC_heapGrowthMaxIncrease,BUN_JSC_useFTLJIT" }
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
 * withoutRuntimeDefaults({ PATH: "/bin", BUN_JSC_useGenerationalGC: "0", MODELSWAP_RUNTIME_ENV: "BUN_JSC_useGenerationalGC" });
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
