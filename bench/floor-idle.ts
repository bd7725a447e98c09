/**
 * Idle RSS of the parts of Bun that modelswap's design cannot do without, and
 * nothing else: `Bun.serve`, one idle Worker (the scheduler's thread), one
 * `Bun.spawn` (model servers) and one `fetch`. The floor under modelswap's
 * idle RSS (README, Benchmarks); not part of `npm run bench`.
 *
 *   bun bench/floor-idle.ts            (prints RSS, RssAnon and RssFile after 1.5 s idle)
 */
import { readFileSync } from "node:fs";

if (!Bun.isMainThread) {
  // The Worker's own run: it only waits for messages (a handler keeps it alive).
  (globalThis as unknown as { onmessage: () => void }).onmessage = () => {};
} else {
  Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  new Worker(new URL(import.meta.url).href);
  await Bun.spawn(["true"]).exited;
  await fetch("http://127.0.0.1:1").catch(() => undefined);
  await Bun.sleep(1500);
  // Read here rather than through children.ts: the floor loads nothing it does not need.
  const status = readFileSync("/proc/self/status", "utf8");
  const mb = (key: string) => (Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1]) / 1024).toFixed(1);
  console.log(`RSS ${mb("VmRSS")} MB (anon ${mb("RssAnon")}, file ${mb("RssFile")})`);
  process.exit(0);
}
