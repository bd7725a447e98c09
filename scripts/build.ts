/**
 * `npm run build`: compiles modelswap into one self-contained executable for
 * this machine, `dist/modelswap`.
 *
 * Usage: bun scripts/build.ts [--outfile PATH] [--no-bytecode]
 */
import { resolve } from "node:path";
import { compile, ROOT } from "./compile.ts";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--outfile");
const outfile = resolve(ROOT, outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1]! : "dist/modelswap");
const code = await compile("bun", outfile, !args.includes("--no-bytecode"));
if (code !== 0) {
  console.error(`build: bun build exited with status ${code}`);
  process.exit(code);
}
console.log(`build: wrote ${outfile}`);
