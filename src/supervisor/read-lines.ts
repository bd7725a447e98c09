/**
 * Turns a child's output stream into lines, because logs are shown and kept
 * per line while pipes deliver arbitrary chunks.
 */

/**
 * Calls `onLine` for every "\n"-terminated line of `stream` (without the
 * newline or a trailing "\r"), and once more for a last partial line when the
 * stream ends. Resolves when the stream ended; never rejects.
 *
 * @example
 * ```ts
 * await readLines(proc.stdout, (line) => console.log(line));
 * ```
 */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  try {
    for await (const chunk of stream) {
      partial += decoder.decode(chunk, { stream: true });
      let nl = partial.indexOf("\n");
      while (nl >= 0) {
        emit(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf("\n");
      }
    }
  } catch {
    // A pipe torn down mid-read ends the output like EOF does.
  }
  partial += decoder.decode();
  if (partial !== "") emit(partial);
}
