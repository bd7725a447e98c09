/**
 * `GET /ui/`: the built-in web page (see `ui-page.ts`), where llama-swap
 * serves its UI and where `GET /logs` sends browsers. `GET /ui` redirects
 * there so the page's relative address is stable.
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { UI_PAGE, UI_PATH, UI_SCRIPT, UI_STYLE } from "../ui/page.ts";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** Only the page's own inline script and style run, and it may talk only to this server. */
const CSP = [
  "default-src 'none'",
  `script-src ${sha256(UI_SCRIPT)}`,
  `style-src ${sha256(UI_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-cache",
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * Routes for `/ui` and `/ui/` (why: llama-swap users open `/ui/` in a browser). Mount after the
 * API-key middleware: the page is covered by the same keys as the API it calls.
 *
 * @example
 * ```ts
 * app.route("/", uiRoutes());
 * ```
 */
export function uiRoutes(): Hono {
  const app = new Hono();
  app.get("/ui", (c) => c.redirect(UI_PATH, 301));
  // llama-swap sends its root to the UI.
  app.get("/", (c) => c.redirect("/ui", 302));
  app.get(UI_PATH, () => new Response(UI_PAGE, { headers: PAGE_HEADERS }));
  return app;
}
