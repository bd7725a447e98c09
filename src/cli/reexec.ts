/**
 * Raises Bun's outbound fetch concurrency for `serve`. Bun reads
 * `BUN_CONFIG_MAX_HTTP_REQUESTS` (default 256) only at startup (setting it
 * later has no effect, checked on Bun 1.4.5), and a proxy holding 1,000
 * streams needs more: so serve re-executes itself once with it set, keeping
 * its pid (execve), so signals and supervisors see one process.
 */
import { selfCommand } from "../lib/self.ts";

/** Bun's upper limit for the setting. */
export const MAX_HTTP_REQUESTS = "65336";

/**
 * Replaces this process with itself plus the variable when it is unset;
 * returns normally when it is already set (or execve is unavailable).
 */
export function ensureFetchConcurrency(argv: readonly string[]): void {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }).execve;
  if (typeof execve !== "function") return;
  const cmd = selfCommand();
  execve.call(process, cmd[0]!, [...cmd, ...argv], { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: MAX_HTTP_REQUESTS });
}
