/**
 * `npm run build`: compiles modelswap into one self-contained executable,
 * `dist/modelswap`, with the scheduler Worker bundled as an extra entrypoint
 * (a Worker file must be listed, or `new Worker(...)` fails inside the binary).
 *
 * Usage: bun scripts/build.ts [--outfile PATH] [--no-bytecode]
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const outIndex = args.indexOf("--outfile");
const outfile = resolve(root, outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1]! : "dist/modelswap");
const bytecode = !args.includes("--no-bytecode");

/** Worker entry files; each must be an entrypoint of the compile. */
const WORKERS = ["workers/scheduler.ts", "workers/config-loader.ts"];

const entrypoints = ["src/main.ts"];
for (const w of WORKERS) {
  if (existsSync(resolve(root, w))) entrypoints.push(w);
  else console.warn(`build: warning: worker entry ${w} does not exist yet: the binary will not be able to start it`);
}

mkdirSync(dirname(outfile), { recursive: true });
const argv = [
  process.execPath,
  "build",
  "--compile",
  "--target=bun",
  "--format=esm",
  ...(bytecode ? ["--bytecode"] : []),
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  ...entrypoints,
  "--outfile",
  outfile,
];
console.log(`build: ${argv.slice(1).join(" ")}`);
const proc = Bun.spawn(argv, { cwd: root, stdout: "inherit", stderr: "inherit" });
const code = await proc.exited;
if (code !== 0) {
  console.error(`build: bun build exited with status ${code}`);
  process.exit(code);
}
console.log(`build: wrote ${outfile}`);
