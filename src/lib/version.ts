/**
 * The version line, with the runtime and platform so bug reports carry them.
 */
import pkg from "../../package.json" with { type: "json" };

/** modelswap's own version, from package.json (inlined by `bun build`). */
export const VERSION: string = pkg.version;

/**
 * `modelswap 0.1.0 (bun 1.4.5, linux-x64)`.
 *
 * @example
 * ```ts
 * console.log(versionText());
 * ```
 */
export function versionText(): string {
  return `modelswap ${VERSION} (bun ${Bun.version}, ${process.platform}-${process.arch})`;
}
