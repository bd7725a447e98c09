/**
 * The web UI: `GET /` and `GET /ui` lead to `/ui/` (as llama-swap), which
 * serves the page shell; `/ui/app.js` and `/ui/app.css` are the UI bundled
 * from `src/ui/` (embedded in the executable; from source, bundled on the
 * first request).
 */
import type { Hono } from "hono";
import { UI_CSP, UI_PAGE, UI_PATH } from "../ui/page.ts";

const SECURITY = {
  "Content-Security-Policy": UI_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

const PAGE_HEADERS = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...SECURITY };

/** The bundle, imported on first use (why: from source the import runs the bundler, ~0.3 s, so only a browser should pay for it). */
let bundle: Promise<{ js: string; css: string }> | null = null;
function uiBundle(): Promise<{ js: string; css: string }> {
  bundle ??= import("../../ui/bundle.ts").then((m) => m.UI_BUNDLE);
  return bundle;
}

/**
 * Routes for `/`, `/ui`, `/ui/` and the UI's two assets. Mount after the
 * API-key middleware: the page is covered by the same keys as the API it calls.
 *
 * @example
 * ```ts
 * uiRoutes(app);
 * ```
 */
export function uiRoutes(app: Hono): void {
  // llama-swap sends its root to /ui (302), which leads on to /ui/.
  app.get("/", (c) => c.redirect("/ui", 302));
  app.get("/ui", (c) => c.redirect(UI_PATH, 301));
  app.get(UI_PATH, () => new Response(UI_PAGE, { headers: PAGE_HEADERS }));
  app.get("/ui/app.js", async () => new Response((await uiBundle()).js, { headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache", ...SECURITY } }));
  app.get("/ui/app.css", async () => new Response((await uiBundle()).css, { headers: { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache", ...SECURITY } }));
}
