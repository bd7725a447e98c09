/**
 * Gives `serve` the Bun settings of src/lib/runtime-env.ts. Bun reads them
 * only at startup (setting `process.env` later changes nothing, checked on
 * Bun 1.4.5): so serve re-executes itself once with them set, keeping its pid
 * (execve), so signals and supervisors see one process, and keeping Bun's own
 * flags from source (`bun --cpu-prof src/main.ts`).
 */
import { withRuntimeDefaults } from "../lib/runtime-env.ts";
import { isCompiled, selfCommand } from "../lib/self.ts";

/**
 * Replaces this process with itself plus the settings when
 * `BUN_CONFIG_MAX_HTTP_REQUESTS` is unset; returns normally when it is
 * already set (the operator's choice, or after the re-exec: under qemu-user
 * an arm64 binary cannot exec itself, so it is set up front there), when
 * execve is unavailable, or when it fails (with a warning).
 */
export function ensureRuntimeSettings(argv: readonly string[]): void {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }).execve;
  if (typeof execve !== "function") return;
  const [exe, ...rest] = selfCommand();
  const flags = isCompiled() ? [] : process.execArgv;
  try {
    execve.call(process, exe!, [exe!, ...flags, ...rest, ...argv], withRuntimeDefaults(process.env));
  } catch (error) {
    process.stderr.write(`modelswap: warning: cannot re-execute with Bun's settings (${error instanceof Error ? error.message : String(error)}); at most 256 upstream requests at once\n`);
  }
}
