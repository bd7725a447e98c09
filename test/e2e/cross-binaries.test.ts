/**
 * `npm run build:all`: six binaries and SHA256SUMS, built once per run.
 * Each binary is checked for its platform's executable format and CPU; the
 * linux-arm64 one really runs, under qemu-user-static (`.ci/run` installs
 * it with apt-get): --version, validate, and one request proxied to a
 * fake-upstream model, itself the arm64 binary under qemu.
 *
 * The self re-exec that raises fetch concurrency cannot exec an arm64 file
 * from inside qemu-user, so BUN_CONFIG_MAX_HTTP_REQUESTS is set up front,
 * and the model's cmd runs qemu explicitly instead of ${MODELSWAP}.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, openSync, readFileSync, readSync, closeSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { tempDir } from "../helpers/configs.ts";
import { postChat } from "../helpers/chat.ts";
import { BUN, cleanupProcesses, freePort, REPO_ROOT, spawnProcess } from "../helpers/processes.ts";

const tmp = tempDir("modelswap-build-all-");
const out = join(tmp.path, "dist");
const QEMU = "qemu-aarch64-static";
/** Where libc6-arm64-cross puts the arm64 loader and libc. */
const SYSROOT = "/usr/aarch64-linux-gnu";

beforeAll(async () => {
  const build = spawnProcess([BUN, join(REPO_ROOT, "scripts/build-all.ts"), "--out", out]);
  const code = await build.waitForExit(600_000);
  if (code !== 0) throw new Error(`build:all failed with status ${code}:\n${build.stdout()}\n${build.stderr()}`);
}, 600_000);
afterEach(cleanupProcesses);
afterAll(tmp.remove);

function head(file: string, n: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** "elf x86-64", "macho arm64", "pe x86-64": the format and CPU an executable's header declares. */
function kindOf(file: string): string {
  const b = head(file, 4096);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    const os = b[7] === 9 ? "freebsd " : ""; // EI_OSABI: 9 is FreeBSD, 0 (System V) is what Linux binaries carry
    return `elf ${os}${machine === 62 ? "x86-64" : machine === 183 ? "arm64" : machine}`;
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return `macho ${cpu === 0x01000007 ? "x86-64" : cpu === 0x0100000c ? "arm64" : cpu}`;
  }
  if (b.toString("latin1", 0, 2) === "MZ") {
    const pe = b.readUInt32LE(0x3c);
    const machine = b.readUInt16LE(pe + 4);
    return `pe ${machine === 0x8664 ? "x86-64" : machine}`;
  }
  return "unknown";
}

describe("npm run build:all", () => {
  test.each([
    ["modelswap-linux-x64", "elf x86-64"],
    ["modelswap-linux-arm64", "elf arm64"],
    ["modelswap-darwin-x64", "macho x86-64"],
    ["modelswap-darwin-arm64", "macho arm64"],
    ["modelswap-windows-x64.exe", "pe x86-64"],
    ["modelswap-freebsd-x64", "elf freebsd x86-64"],
  ])("%s is a %s executable", (name, kind) => {
    expect(kindOf(join(out, name))).toBe(kind);
  });

  test("SHA256SUMS lists each binary with its digest, in sha256sum's format", () => {
    const lines = readFileSync(join(out, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(lines.map((l) => l.split("  ")[1])).toEqual([
      "modelswap-linux-x64",
      "modelswap-linux-arm64",
      "modelswap-darwin-x64",
      "modelswap-darwin-arm64",
      "modelswap-windows-x64.exe",
      "modelswap-freebsd-x64",
    ]);
    for (const line of lines) {
      const [sum, name] = line.split("  ") as [string, string];
      expect(createHash("sha256").update(readFileSync(join(out, name))).digest("hex")).toBe(sum);
    }
  }, 60_000);
});

describe("the linux-arm64 binary under qemu-user-static", () => {
  const bin = () => join(out, "modelswap-linux-arm64");
  const underQemu = (...args: string[]) => [QEMU, "-L", SYSROOT, bin(), ...args];

  test("qemu-user-static and the arm64 libc are installed (.ci/run installs them)", () => {
    const missing = [Bun.which(QEMU) === null ? `${QEMU} (apt-get install qemu-user-static)` : null, existsSync(join(SYSROOT, "lib/ld-linux-aarch64.so.1")) ? null : `${SYSROOT} (apt-get install libc6-arm64-cross)`].filter((x) => x !== null);
    if (missing.length > 0) throw new Error(`Cannot run the arm64 smoke test: missing ${missing.join(" and ")}`);
  });

  test("--version names linux-arm64", async () => {
    const p = spawnProcess(underQemu("--version"));
    expect(await p.waitForExit(60_000)).toBe(0);
    expect(p.stdout()).toMatch(/^modelswap \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+, linux-arm64\)\n$/);
  }, 90_000);

  test("validate reads a config", async () => {
    const file = tmp.write("arm64-validate.yaml", "models:\n  m:\n    cmd: ${MODELSWAP} fake-upstream --port ${PORT}\n");
    const p = spawnProcess(underQemu("validate", file));
    expect(await p.waitForExit(60_000)).toBe(0);
    expect(p.stdout()).toBe(`${file}: OK, 1 model, 0 groups, 0 peers\n`);
  }, 90_000);

  test("serve proxies one request to a fake-upstream model, then shuts down cleanly", async () => {
    const startPort = freePort();
    const file = tmp.write(
      "arm64-serve.yaml",
      `startPort: ${startPort}\nhealthCheckTimeout: 120\nmodels:\n  m:\n    cmd: ${QEMU} -L ${SYSROOT} ${bin()} fake-upstream --port \${PORT} --tokens 3 --token-interval 0\n`,
    );
    const p = spawnProcess(underQemu("--config", file, "--listen", "127.0.0.1:0", "--state-dir", join(tmp.path, "arm64-state")), {
      env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "1024" },
    });
    const url = (await p.waitForOutput(/listening on (http:\/\/\S+)/, 60_000))[1]!;
    const res = await postChat(url, "m", { signal: AbortSignal.timeout(120_000) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content).toBe("Hello from the");
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit(60_000)).toBe(0);
  }, 180_000);
});
