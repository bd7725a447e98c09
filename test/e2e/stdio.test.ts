import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

const STDIO = resolve(import.meta.dir, "../../src/lib/stdio.ts");

/** Runs a script that imports `writeStdout` and `writeStderr`; its stdout and stderr are pipes. */
function run(body: string) {
  const script = `import { writeStdout, writeStderr } from ${JSON.stringify(STDIO)};\n${body}`;
  return Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
}

describe("writeStdout / writeStderr", () => {
  test("text reaches stdout and stderr whole and in call order, past a pipe's buffer", async () => {
    // 20,000 lines of ~110 bytes: far more than a pipe holds, so part of it waits for this reader.
    const p = run(`for (let i = 0; i < 20000; i++) writeStdout(\`line \${i} \${"x".repeat(100)}\\n\`); writeStderr("done\\n");`);
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(0);
    expect(err).toBe("done\n");
    const lines = out.split("\n");
    expect(lines.length).toBe(20001);
    for (let i = 0; i < 20000; i++) if (lines[i] !== `line ${i} ${"x".repeat(100)}`) throw new Error(`line ${i} is ${lines[i]}`);
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
