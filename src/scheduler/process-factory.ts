/**
 * The seam between the effects runner and real processes: the runner asks a
 * factory for a process per start, so tests can hand it fakes.
 */
import type { ModelConfig } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import { ModelProcess, type ExitInfo } from "../supervisor/index.ts";

/** What the runner needs of one model process (a structural subset of ModelProcess). */
export interface ProcessHandle {
  readonly pid: number | null;
  /** Resolves when healthy; rejects with a StartFailure-like error or the signal's reason. */
  start(signal: AbortSignal): Promise<void>;
  readonly exited: Promise<ExitInfo>;
  /** Idempotent; resolves when the whole process group is gone. */
  stop(graceMs: number): Promise<ExitInfo>;
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
 * const factory = realProcessFactory("/var/lib/modelswap");
 * ```
 */
export function realProcessFactory(stateDir: string): ProcessFactory {
  return {
    create(model, hooks, clock) {
      const spec = {
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

export type { ExitInfo };
