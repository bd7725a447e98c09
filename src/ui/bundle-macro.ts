/**
 * The macro behind `bundle.ts`. `Bun.build` cannot run inside a macro while
 * the bundler waits on it (it deadlocks; Bun refuses), so it runs
 * `build.ts` in a child Bun and reads the JSON it prints.
 */
export function bundleUi(): { js: string; css: string } {
  const script = new URL("./build.ts", import.meta.url).pathname;
  const proc = Bun.spawnSync([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`Cannot bundle the web UI: ${proc.stderr.toString()}`);
  return JSON.parse(proc.stdout.toString()) as { js: string; css: string };
}
