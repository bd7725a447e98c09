/**
 * Config files for e2e tests, written to a temp directory that the test
 * removes afterwards. Models are modelswap's own fake upstream, so no GPU
 * and no model files are needed.
 *
 * @example
 * ```ts
 * const tmp = tempDir("modelswap-x-");
 * afterAll(tmp.remove);
 * const file = tmp.write("good.yaml", GOOD_CONFIG);
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Two fake-upstream models in one group: valid, and runnable from source or the binary. */
export const GOOD_CONFIG = `
models:
  a:
    cmd: \${MODELSWAP} fake-upstream --port \${PORT} --tokens 3 --token-interval 0
  b:
    cmd: \${MODELSWAP} fake-upstream --port \${PORT} --tokens 3 --token-interval 0
groups:
  pair:
    members: [a, b]
`;

/** Two errors: `models.a.ttl` on line 4 and `models.b.proxy` on line 6. */
export const BAD_CONFIG = `models:
  a:
    cmd: fake --port \${PORT}
    ttl: soon
  b:
    proxy: 12
`;

/** A config whose one model `m` runs the fake upstream with `args`, its port from `startPort`. */
export function fakeModelConfig(startPort: number, args = "--tokens 3 --token-interval 0", extra = ""): string {
  return `startPort: ${startPort}
healthCheckTimeout: 15
models:
  m:
    cmd: \${MODELSWAP} fake-upstream --port \${PORT} ${args}
${extra}`;
}

/** A fresh temp directory with a writer and a remover. */
export function tempDir(prefix = "modelswap-test-"): { path: string; write(name: string, text: string): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
