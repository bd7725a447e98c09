/**
 * `npm run test:real`: builds llama-server once (or reuses the cached build),
 * writes the tiny models into a temp directory, then runs the real-server
 * suite (`test/real/*.real.ts`, a name `bun test` alone never picks up) and
 * exits with its status. Extra arguments go to `bun test` (`-t cold`).
 *
 * The build goes to `${MODELSWAP_CACHE:-${XDG_CACHE_HOME:-~/.cache}/modelswap}/llama-server/`;
 * the first one takes 10-12 minutes on 2 cores.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateModels } from "./models.ts";

const root = join(import.meta.dir, "../..");
const started = performance.now();

const build = Bun.spawn([join(import.meta.dir, "build-llama-server.sh")], { stdout: "pipe", stderr: "inherit" });
const out = await new Response(build.stdout).text();
if ((await build.exited) !== 0) {
  console.error(`Cannot run the real-server suite: build-llama-server.sh exited with ${build.exitCode}`);
  process.exit(1);
}
const dir = out.trim().split("\n").at(-1)!;
const buildSecs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`[real-server] llama-server: ${dir}/bin/llama-server (ready after ${buildSecs} s)`);

const models = mkdtempSync(join(tmpdir(), "modelswap-real-models-"));
let status = 1;
try {
  const vocab = `${dir}/vocab/ggml-vocab-llama-spm.gguf`;
  await generateModels(vocab, models);
  const files = readdirSync(join(root, "test/real"))
    .filter((f) => f.endsWith(".real.ts"))
    .sort()
    .map((f) => `./test/real/${f}`);
  const test = Bun.spawn([process.execPath, "test", "--timeout", "120000", ...files, ...process.argv.slice(2)], {
    cwd: root,
    stdio: ["inherit", "inherit", "inherit"],
    env: {
      ...process.env,
      MODELSWAP_LLAMA_SERVER: `${dir}/bin/llama-server`,
      MODELSWAP_LLAMA_VOCAB: vocab,
      MODELSWAP_REAL_MODELS: models,
    },
  });
  status = await test.exited;
} finally {
  rmSync(models, { recursive: true, force: true });
}
console.log(`[real-server] npm run test:real took ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(status);
