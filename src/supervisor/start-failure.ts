/**
 * The one error a model start rejects with (besides the caller's abort
 * reason), so the scheduler can tell "could not spawn" from "died while
 * loading" and show the server's last words.
 */

/** How a process ended: `code` when it exited, `signal` (e.g. "SIGKILL") when killed. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** Describes an exit for messages: "exit code 1" or "signal SIGKILL". */
export function describeExit(exit: ExitInfo): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  if (exit.code !== null) return `exit code ${exit.code}`;
  return "unknown status";
}

/** Thrown by `ModelProcess.start` when the server could not be spawned or exited before it was healthy. */
export class StartFailure extends Error {
  readonly reason: "spawn" | "exited";
  readonly exit: ExitInfo | null;
  readonly tail: string[];

  constructor(reason: "spawn" | "exited", message: string, exit: ExitInfo | null, tail: string[], cause?: unknown) {
    const body = tail.length > 0 ? `${message}\n${tail.join("\n")}` : message;
    super(body, cause === undefined ? undefined : { cause });
    this.name = "StartFailure";
    this.reason = reason;
    this.exit = exit;
    this.tail = tail;
  }
}
