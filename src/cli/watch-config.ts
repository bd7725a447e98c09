/**
 * `--watch-config`: reload the configuration when its file changes, as
 * llama-swap's `-watch-config` does. A file that fails to load is reported
 * and the running configuration stays in force.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";

/** Quiet time after the last change event before reloading (editors write in several steps). */
export const DEBOUNCE_MS = 250;

/**
 * Calls `onChange` once per burst of changes to `file` (and to the YAML
 * files of `dir`, for --config-dir), never while a
 * previous call is still running (a change during it schedules one more).
 * Watches the directory, so editors that replace the file (write a temp
 * file, then rename) are seen too. Returns the function that stops watching.
 *
 * @example
 * ```ts
 * const stop = watchConfigFile("config.yaml", async () => reload());
 * ```
 */
export function watchConfigFile(file: string | null, onChange: () => Promise<void>, dir: string | null = null): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;

  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await onChange();
    } finally {
      running = false;
      if (again) {
        again = false;
        void run();
      }
    }
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void run(), DEBOUNCE_MS);
  };

  const watchers: FSWatcher[] = [];
  if (file !== null) {
    const path = resolve(file);
    const name = basename(path);
    watchers.push(
      watch(dirname(path), (_event, changed) => {
        if (changed === null || changed.toString() === name) schedule();
      }),
    );
  }
  // --config-dir: any *.yml/*.yaml appearing, changing or going away.
  if (dir !== null) {
    watchers.push(
      watch(resolve(dir), (_event, changed) => {
        if (changed === null || /\.ya?ml$/.test(changed.toString())) schedule();
      }),
    );
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
