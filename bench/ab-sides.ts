/**
 * The two sides of an A/B script (`bench/ab.ts`, `bench/stream-ab.ts`): the
 * options that name each side's source tree and environment, and reading them.
 */

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
