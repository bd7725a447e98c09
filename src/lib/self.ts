/**
 * How to run this same program again: `${MODELSWAP}` in a config, and the
 * scheduler's `cmdStop` helpers, need a command line that works both from
 * source and from the compiled binary.
 */
/**
 * True inside a `bun build --compile` executable, whose bundled files live
 * under `/$bunfs/` (checked on Bun 1.4.5: `Bun.main` is `/$bunfs/root/<outfile>`);
 * on Windows the same virtual root is `B:\~BUN\` (Bun's documentation; not run here).
 */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(Bun.main);
}

/**
 * The argv prefix that starts modelswap: `[binary]` when compiled,
 * `[bun, /abs/src/main.ts]` from source.
 *
 * @example
 * ```ts
 * Bun.spawn([...selfCommand(), "fake-upstream", "--port", "0"]);
 * ```
 */
export function selfCommand(): string[] {
  if (isCompiled()) return [process.execPath];
  return [process.execPath, Bun.fileURLToPath(new URL("../main.ts", import.meta.url))];
}

/**
 * What to pass to `new Worker(...)` for a worker file given relative to the
 * repository root (`"workers/scheduler.ts"`). From source that is a file URL;
 * in the binary, `new URL(rel, import.meta.url)` points outside `/$bunfs/`
 * (every module shares the entry's URL there), while a `./` string path
 * resolves to the embedded entrypoint (checked on Bun 1.4.5, even when the
 * working directory holds a file of the same name).
 *
 * @example
 * ```ts
 * const worker = new Worker(workerEntry("workers/scheduler.ts"));
 * ```
 */
export function workerEntry(pathFromRoot: string): string | URL {
  return isCompiled() ? `./${pathFromRoot}` : new URL(`../../${pathFromRoot}`, import.meta.url);
}
