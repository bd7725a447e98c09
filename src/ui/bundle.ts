/**
 * The web UI's script and style, bundled from `src/ui/` by Bun's bundler.
 * `bundleUi` is a macro: `bun build --compile` runs it once and embeds the
 * result in the executable (no files, no CDN); from source it runs when this
 * module is first imported (the HTTP route imports it lazily, on the first
 * `/ui/` request, so a modelswap nobody opens in a browser never pays for it).
 */
import { bundleUi } from "./bundle-macro.ts" with { type: "macro" };

/** `{js, css}` of the UI. */
export const UI_BUNDLE: { js: string; css: string } = bundleUi();
