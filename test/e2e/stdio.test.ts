import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, openSync, readSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../helpers/configs.ts";
import { BUN, freePortRange, isGone, MAIN_TS, waitForUrl, waitGone } from "../helpers/processes.ts";

const STDIO = resolve(import.meta.dir, "../../src/lib/stdio.ts");
const tmp = tempDir("modelswap-stdio-");
afterAll(tmp.remove);

const script = (body: string) => `import { drainStdio, writeStdout, writeStderr } from ${JSON.stringify(STDIO)};\n${body}`;

/** Runs a script that imports `writeStdout`, `writeStderr` and `drainStdio`; its stdout and stderr are pipes. */
function run(body: string) {
  return Bun.spawn([process.execPath, "-e", script(body)], { stdout: "pipe", stderr: "pipe" });
}

/** `run`, with stdout the file descriptor `stdout`. */
function runTo(body: string, stdout: number) {
  return Bun.spawn([process.execPath, "-e", script(body)], { stdout, stderr: "pipe" });
}

/**
 * A pipe (a FIFO) that nobody reads until told: Bun reads a `stdout: "pipe"`
 * of its children as they write, so only a pipe of our own can fall behind.
 * `writer` is for the child (close it here once the child has it); `readAll`
 * reads what is in the pipe and what comes until the last writer closes it.
 */
function stalledPipe(name: string) {
  const fifo = join(tmp.path, name);
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  // A reader must exist before the writer opens (else the open blocks); this one never reads until readAll.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  let ownWriter = true;
  return {
    writer,
    closeWriter() {
      if (ownWriter) closeSync(writer);
      ownWriter = false;
    },
    /** Everything until every writer closed; polls the non-blocking end, bounded by `timeoutMs`. */
    async readAll(timeoutMs = 30_000): Promise<string> {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      const deadline = performance.now() + timeoutMs;
      try {
        for (;;) {
          let n: number;
          try {
            n = readSync(reader, buf);
          } catch (error) {
            if ((error as { code?: string }).code !== "EAGAIN") throw error;
            if (performance.now() > deadline) throw new Error(`Timed out reading ${fifo}`);
            await Bun.sleep(1);
            continue;
          }
          if (n === 0) return Buffer.concat(chunks).toString();
          chunks.push(Buffer.from(buf.subarray(0, n)));
        }
      } finally {
        closeSync(reader);
      }
    },
  };
}

/** Reads `stream` as text as it comes: `until(s)` resolves once the text so far contains `s` (rejects if it ends first), `all` at its end. */
function textReader(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let waiters: Array<{ s: string; resolve: () => void; reject: (e: Error) => void }> = [];
  const all = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      waiters = waiters.filter((w) => (text.includes(w.s) ? (w.resolve(), false) : true));
    }
    for (const w of waiters) w.reject(new Error(`Output ended without ${JSON.stringify(w.s)}: ${text}`));
    return text;
  })();
  const until = (s: string) => (text.includes(s) ? Promise.resolve() : new Promise<void>((resolve, reject) => waiters.push({ s, resolve, reject })));
  return { all, until };
}

/** 20,000 numbered lines of ~110 bytes: far more than a pipe holds. */
const MANY_LINES = `for (let i = 0; i < 20000; i++) writeStdout(\`line \${i} \${"x".repeat(100)}\\n\`);`;

function expectAllLines(out: string): void {
  const lines = out.split("\n");
  expect(lines.length).toBe(20001);
  for (let i = 0; i < 20000; i++) if (lines[i] !== `line ${i} ${"x".repeat(100)}`) throw new Error(`line ${i} is ${lines[i]}`);
}

describe("writeStdout / writeStderr", () => {
  test("text reaches stdout and stderr whole and in call order, past a pipe's buffer", async () => {
    // 20,000 lines of ~110 bytes: far more than a pipe holds, so part of it waits for this reader.
    const p = run(`${MANY_LINES} writeStderr("done\\n");`);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(0);
    expect(err).toBe("done\n");
    expectAllLines(out);
  });

  test("drainStdio: what the reader has not taken yet still goes out before process.exit", async () => {
    // Without the drain, process.exit drops what the sink still holds (measured: 128 of 2,000 lines arrived).
    const pipe = stalledPipe("slow-script");
    const p = runTo(`${MANY_LINES} writeStderr("written\\n"); const drained = await drainStdio(60_000); writeStderr(\`drained \${drained}\\n\`); process.exit(0);`, pipe.writer);
    pipe.closeWriter();
    // The reader starts only once everything was written (and most of it waits in the sink).
    const err = textReader(p.stderr);
    await err.until("written\n");
    const [out, code] = await Promise.all([pipe.readAll(), p.exited]);
    expect(code).toBe(0);
    expect(await err.all).toBe("written\ndrained true\n");
    expectAllLines(out);
  });

  test("drainStdio gives up at its deadline when the reader stops reading", async () => {
    const pipe = stalledPipe("stalled-script");
    const p = runTo(`${MANY_LINES} const drained = await drainStdio(200); writeStderr(\`drained \${drained}\\n\`); process.exit(0);`, pipe.writer);
    pipe.closeWriter();
    // stdout is not read at all until the process has exited.
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("drained false\n");
    expect(code).toBe(0);
    // What the pipe held when it exited: its first lines, not all of them.
    const out = await pipe.readAll();
    expect(out.startsWith("line 0 ")).toBe(true);
    expect(out.length).toBeLessThan(20000 * 110);
  });

  test("a reader that left (EPIPE) neither throws nor ends the process", async () => {
    const p = run(`for (let i = 0; i < 2000; i++) { writeStdout(\`line \${i} \${"x".repeat(100)}\\n\`); await Bun.sleep(0); } writeStderr("still here\\n");`);
    // Read the first bytes, then close our end: every later write meets a closed pipe.
    const reader = p.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("still here\n");
    expect(code).toBe(0);
  });
});

describe("serve's last lines", () => {
  test("a reader that fell behind still gets every request line and the shutdown's lines after SIGTERM", async () => {
    const port = freePortRange(1);
    const config = tmp.write(`config-${port}.yaml`, "models: {}\n");
    const stateDir = join(tmp.path, `state-${port}`);
    // stdout is not read until the SIGTERM: the request lines (~2 KB each, the user agent) fill the pipe.
    const pipe = stalledPipe(`stalled-serve-${port}`);
    const p = Bun.spawn([BUN, MAIN_TS, "--config", config, "--listen", `127.0.0.1:${port}`, "--state-dir", stateDir], {
      stdout: pipe.writer,
      stderr: "pipe",
    });
    pipe.closeWriter();
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForUrl(`${url}/health`);
      const agent = `reader-test-${"a".repeat(2000)}`;
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${url}/v1/models`, { headers: { "user-agent": agent } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      p.kill("SIGTERM");
      const [out, code] = await Promise.all([pipe.readAll(), p.exited]);
      expect(code).toBe(0);
      expect(out.split("\n").filter((l) => l.includes(agent)).length).toBe(200);
      expect(out).toContain("SIGTERM received");
    } finally {
      if (!isGone(p.pid)) p.kill("SIGKILL");
      await waitGone(p.pid);
    }
  });
});
