/**
 * `npm run build:all`: cross-compiles modelswap for every platform it ships
 * on (Linux, macOS, Windows, FreeBSD), into dist/modelswap-<os>-<arch>[.exe],
 * and writes dist/SHA256SUMS
 * (`sha256sum -c SHA256SUMS` checks a download). Targets compile one after
 * the other: each takes a few seconds once Bun has cached that target's
 * runtime (fetched from the npm registry the first time).
 *
 * Usage: bun scripts/build-all.ts [--out DIR] [--only linux-arm64,linux-x64]
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { compile, ROOT } from "./compile.ts";

/** Release name → Bun's --target. */
export const TARGETS: Record<string, string> = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
  "freebsd-x64": "bun-freebsd-x64",
};

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = resolve(ROOT, opt("--out") ?? "dist");
const only = opt("--only")?.split(",");
const names = only ?? Object.keys(TARGETS);
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length > 0) {
  console.error(`build:all: unknown target ${unknown.join(", ")}: expected some of ${Object.keys(TARGETS).join(", ")}`);
  process.exit(2);
}

const files: string[] = [];
for (const name of names) {
  const file = join(out, `modelswap-${name}${name.startsWith("windows") ? ".exe" : ""}`);
  const started = performance.now();
  const code = await compile(TARGETS[name]!, file);
  if (code !== 0) {
    console.error(`build:all: ${name} failed: bun build exited with status ${code}`);
    process.exit(code);
  }
  console.log(`build:all: wrote ${file} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  files.push(file);
}
const sums = files.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}\n`).join("");
writeFileSync(join(out, "SHA256SUMS"), sums);
console.log(`build:all: wrote ${join(out, "SHA256SUMS")}`);
