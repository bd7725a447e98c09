/**
 * The seam between the effects runner and real processes: the runner asks a
 * factory for a process per start, so tests can hand it fakes.
 */
import type { ModelConfig } from "../config/types.ts";
import type { ExitInfo } from "../supervisor/index.ts";
import type { Clock } from "../lib/clock.ts";
import { isLoopbackHost, type Janitor, ModelProcess, type StopResult } from "../supervisor/index.ts";

/** What the runner needs of one model process (a structural subset of ModelProcess). */
export interface ProcessHandle {
  readonly pid: number | null;
  /** Resolves when healthy; rejects with a StartFailure-like error or the signal's reason. */
  start(signal: AbortSignal): Promise<void>;
  readonly exited: Promise<ExitInfo>;
  /**
   * Idempotent; resolves when the whole process group is gone, or after the
   * bounded wait with `problem` naming what is left (unkillable, refused signal).
   */
  stop(graceMs: number): Promise<StopResult>;
  kill(): void;
  healthFail: boolean;
  /** Why the last health check failed, when known (for the `health_failing` log line). */
  readonly lastHealthError?: string | null;
  /** True once a stop had to SIGKILL the group. */
  readonly sigkilled?: boolean;
  /** Last `n` output lines, oldest first (for the 504 of a start that timed out). */
  tail?(n: number): string[];
}

/** Creates one process per start of a model. */
export interface ProcessFactory {
  create(model: ModelConfig, hooks: { onLog(line: string): void }, clock: Clock): ProcessHandle;
}

/**
 * The real factory: `ModelProcess` with checkUrl = proxy + checkEndpoint.
 *
 * @example
 * ```ts
 * const factory = realProcessFactory("/var/lib/modelswap", new Janitor("/var/lib/modelswap", log));
 * ```
 */
export function realProcessFactory(stateDir: string, janitor: Janitor | null = null): ProcessFactory {
  return {
    create(model, hooks, clock) {
      const spec = {
        // Only a port modelswap handed out (${PORT}) must be free: a fixed proxy address may be served by design.
        listen: model.port === null ? null : listenAddress(model.proxy),
        janitor,
        model: model.id,
        argv: model.cmd,
        env: model.env,
        checkUrl: model.checkEndpoint === null ? null : model.proxy + model.checkEndpoint,
        stopArgv: model.cmdStop,
        stateDir,
      };
      return new ModelProcess(spec, hooks, clock);
    },
  };
}

/** The loopback host and port a model's server will listen on (checked free before spawning), or null for a remote proxy. */
export function listenAddress(proxy: string): { host: string; port: number } | null {
  if (!URL.canParse(proxy)) return null;
  const u = new URL(proxy);
  if (!isLoopbackHost(u.hostname)) return null;
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return { host: u.hostname, port };
}

export type { ExitInfo, StopResult };
