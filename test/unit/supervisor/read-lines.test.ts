import { describe, expect, test } from "bun:test";
import { readLines } from "../../../src/supervisor/read-lines.ts";

function streamOf(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === "string" ? enc.encode(chunk) : chunk);
      c.close();
    },
  });
}

async function collect(chunks: readonly (string | Uint8Array)[]): Promise<string[]> {
  const lines: string[] = [];
  await readLines(streamOf(chunks), (l) => lines.push(l));
  return lines;
}

describe("readLines", () => {
  test.each([
    { chunks: ["a\nb\n"], lines: ["a", "b"] },
    { chunks: ["a", "b\nc", "\n"], lines: ["ab", "c"] },
    { chunks: ["a\r\n", "\n"], lines: ["a", ""] },
    { chunks: ["done\npartial"], lines: ["done", "partial"] },
    { chunks: [], lines: [] },
  ])("splits $chunks into $lines", async ({ chunks, lines }) => {
    expect(await collect(chunks)).toEqual([...lines]);
  });

  test("decodes a UTF-8 character split across chunks", async () => {
    const bytes = new TextEncoder().encode("é\n");
    expect(await collect([bytes.slice(0, 1), bytes.slice(1)])).toEqual(["é"]);
  });

  test("resolves with what it has when the stream errors", async () => {
    const lines: string[] = [];
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulls++ === 0) c.enqueue(new TextEncoder().encode("x\ny"));
        else c.error(new Error("pipe torn down"));
      },
    });
    await readLines(stream, (l) => lines.push(l));
    expect(lines).toEqual(["x", "y"]);
  });
});
