/**
 * Text to stdout and stderr through Bun's native file sinks, not
 * `process.stdout` / `process.stderr`. Why: the first use of either loads
 * Node's stream machinery into the process, and `serve` prints from its
 * first second (measured: `serve`'s idle RSS -0.7 MB with stdout a pipe, as
 * under systemd or Docker; in a process with nothing else, the first
 * `process.stdout.write` +2.2 MB, a `Bun.stdout.writer()` +0.6 MB).
 * One sink per stream, so text goes out in call order; a reader that falls
 * behind is buffered for, as by `process.stdout`.
 *
 * Bug prevented: a pipe's sink is non-blocking, so what a slow reader had not
 * taken yet was still in the sink when `process.exit` ran, and was lost (the
 * last lines before an exit, a shutdown's among them). `drainStdio` waits for it.
 */
import type { FileSink } from "bun";

interface Sink {
  open: () => FileSink;
  sink: FileSink | null;
  /** The flush still waiting for the reader, if any (it settles once everything written so far went out). */
  pending: Promise<unknown> | null;
}

const out: Sink = { open: () => Bun.stdout.writer(), sink: null, pending: null };
const err: Sink = { open: () => Bun.stderr.writer(), sink: null, pending: null };

function write(s: Sink, text: string): void {
  try {
    const sink = (s.sink ??= s.open());
    sink.write(text);
    // A promise means the rest waits for the reader; the sink writes it when it can.
    const flushed = sink.flush();
    if (!(flushed instanceof Promise)) return;
    const settled = flushed.catch(() => {}).then(() => {
      if (s.pending === settled) s.pending = null;
    });
    s.pending = settled;
  } catch {
    // The reader is gone (EPIPE): there is no one to tell, and the process goes on.
  }
}

/** Writes `text` to stdout as it is (add the newline yourself). */
export function writeStdout(text: string): void {
  write(out, text);
}

/** Writes `text` to stderr as it is (add the newline yourself). */
export function writeStderr(text: string): void {
  write(err, text);
}

/** Whether stdout's sink holds text its reader has not taken yet (a direct write to fd 1 would overtake it). */
export function stdoutBacklogged(): boolean {
  return out.pending !== null;
}

/**
 * Resolves once stdout and stderr have handed everything written so far to
 * their readers (true), or after `timeoutMs` (false): a reader that stopped
 * reading must not keep a finished process alive.
 *
 * @example
 * ```ts
 * const code = await run();
 * await drainStdio(2000);
 * process.exit(code);
 * ```
 */
export async function drainStdio(timeoutMs: number): Promise<boolean> {
  const waits = [out.pending, err.pending].filter((p) => p !== null);
  if (waits.length === 0) return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(waits).then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
