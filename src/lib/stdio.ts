/**
 * Text to stdout and stderr through Bun's native file sinks, not
 * `process.stdout` / `process.stderr`. Why: the first use of either loads
 * Node's stream machinery into the process, and `serve` prints from its
 * first second (measured: `serve`'s idle RSS -0.7 MB with stdout a pipe, as
 * under systemd or Docker; in a process with nothing else, the first
 * `process.stdout.write` +2.2 MB, a `Bun.stdout.writer()` +0.6 MB).
 * One sink per stream, so text goes out in call order; a reader that falls
 * behind is buffered for, as by `process.stdout`.
 */
import type { FileSink } from "bun";

let out: FileSink | null = null;
let err: FileSink | null = null;

function write(sink: FileSink, text: string): void {
  try {
    sink.write(text);
    // A promise means the rest waits for the reader; the sink writes it when it can.
    const pending = sink.flush();
    if (pending instanceof Promise) pending.catch(() => {});
  } catch {
    // The reader is gone (EPIPE): there is no one to tell, and the process goes on.
  }
}

/** Writes `text` to stdout as it is (add the newline yourself). */
export function writeStdout(text: string): void {
  write((out ??= Bun.stdout.writer()), text);
}

/** Writes `text` to stderr as it is (add the newline yourself). */
export function writeStderr(text: string): void {
  write((err ??= Bun.stderr.writer()), text);
}
