/**
 * One `bun build --compile` of modelswap for one target, shared by
 * `npm run build` (this machine) and `npm run build:all` (every platform).
 * The Worker files are extra entrypoints: a Worker file must be listed, or
 * `new Worker(...)` fails inside the binary.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** Worker entry files; each must be an entrypoint of the compile. */
export const WORKERS = ["workers/scheduler.ts"];

/**
 * Compiles src/main.ts for `target` (`bun` for this machine, or
 * `bun-linux-arm64` and friends; Bun fetches a foreign target's runtime from
 * the npm registry once and caches it) into `outfile`; resolves with the
 * exit status of `bun build`.
 */
export async function compile(target: string, outfile: string, bytecode = true): Promise<number> {
  const entrypoints = ["src/main.ts"];
  for (const w of WORKERS) {
    if (existsSync(resolve(ROOT, w))) entrypoints.push(w);
    else console.warn(`build: warning: worker entry ${w} does not exist yet: the binary will not be able to start it`);
  }
  mkdirSync(dirname(outfile), { recursive: true });
  const argv = [
    process.execPath,
    "build",
    "--compile",
    `--target=${target}`,
    "--format=esm",
    // One chunk per lazily imported command (serve, the config loader, fake-upstream, the web UI...) instead of one
    // file holding them all: a process parses only what it imports. Idle RSS of `serve` 49.2 → 46.1 MB (bench/mem-idle.ts).
    "--splitting",
    ...(bytecode ? ["--bytecode"] : []),
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...entrypoints,
    "--outfile",
    outfile,
  ];
  console.log(`build: ${argv.slice(1).join(" ")}`);
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  return proc.exited;
}
