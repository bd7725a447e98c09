/**
 * Every shell block of the README runs as written, after the README's own
 * set-up, or says why it is not run here. Each ```sh block is preceded by a
 * marker: `<!-- readme-test: run -->` (run with bash, must exit 0),
 * `<!-- readme-test: with-server -->` (run against the demo config served by
 * modelswap; the README's 127.0.0.1:8080 becomes the address it listens on),
 * or `<!-- readme-test: skip: REASON -->`. An unmarked block fails the test.
 *
 * The set-up runs with a temporary HOME whose ~/.local/bin is on PATH (as a
 * login shell on Debian or Ubuntu puts it), so "install into ~/.local/bin"
 * touches nothing of the machine's.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../helpers/configs.ts";
import { BUN, cleanupProcesses, REPO_ROOT, spawnModelswap, spawnProcess } from "../helpers/processes.ts";

interface Block {
  line: number;
  marker: string | null;
  code: string;
}

/** The ```sh blocks of `markdown`, each with the readme-test marker on the line before it. */
export function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```sh") continue;
    const end = lines.indexOf("```", i + 1);
    const before = lines[i - 1] ?? "";
    const marker = /^<!-- readme-test: (.+?) -->$/.exec(before)?.[1] ?? null;
    blocks.push({ line: i + 1, marker, code: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return blocks;
}

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const blocks = shellBlocks(readme);
const home = tempDir("modelswap-readme-home-");
mkdirSync(join(home.path, ".local", "bin"), { recursive: true });
afterAll(home.remove);
afterEach(cleanupProcesses);

/** The environment of a user who followed "Install and run": npm's tools and ~/.local/bin on PATH. */
const env = {
  HOME: home.path,
  PATH: [join(home.path, ".local", "bin"), join(REPO_ROOT, "node_modules", ".bin"), dirname(BUN), process.env.PATH ?? ""].join(":"),
};

async function bash(code: string): Promise<{ code: number; out: string }> {
  const p = spawnProcess(["bash", "-euo", "pipefail", "-c", code], { env, cwd: REPO_ROOT });
  const status = await p.waitForExit(300_000);
  await p.outputClosed;
  return { code: status, out: `${p.stdout()}${p.stderr()}` };
}

describe("README shell blocks", () => {
  test("every ```sh block is marked run, with-server or skip (with a reason)", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const bad = blocks.filter((b) => !(b.marker === "run" || b.marker === "with-server" || /^skip: \S/.test(b.marker ?? "")));
    expect(bad.map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  const runnable = blocks.filter((b) => b.marker === "run" || b.marker === "with-server");
  test.each(runnable.map((b) => [`README.md:${b.line} (${b.marker})`, b] as const))("%s runs as written", async (_name, block) => {
    if (block.marker === "run") {
      const r = await bash(block.code);
      if (r.code !== 0) throw new Error(`README.md:${block.line} exited ${r.code}:\n${block.code}\n--- output ---\n${r.out}`);
      return;
    }
    const server = spawnModelswap(["--config", join(REPO_ROOT, "config.yaml"), "--listen", "127.0.0.1:0", "--state-dir", join(home.path, "state")], { env });
    const url = (await server.waitForOutput(/listening on (http:\/\/\S+)/))[1]!;
    const r = await bash(block.code.replaceAll("http://127.0.0.1:8080", url));
    expect(r.code).toBe(0);
    expect(r.out).toContain('"object":"list"');
    expect(r.out).toContain("data: [DONE]");
    await server.stop();
  }, 300_000);

  test("the PATH set-up put a working modelswap in ~/.local/bin", async () => {
    const r = await bash("command -v modelswap && modelswap --version");
    expect(r.code).toBe(0);
    expect(r.out).toContain(join(home.path, ".local", "bin", "modelswap"));
    expect(r.out).toMatch(/modelswap \d+\.\d+\.\d+ \(bun /);
  });

  test("a block without a marker is found (the check can fail)", () => {
    expect(shellBlocks("text\n```sh\necho hi\n```\n")).toEqual([{ line: 2, marker: null, code: "echo hi" }]);
  });
});

