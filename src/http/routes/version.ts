/**
 * `GET /api/version`, llama-swap's shape, for tools that check which server
 * they talk to. modelswap is not built with a commit or date stamp, so both
 * are empty strings (llama-swap's own value for a plain `go build`).
 */
import type { Hono } from "hono";
import { VERSION } from "../../lib/version.ts";

/**
 * Routes for `/api/version`.
 *
 * @example
 * ```ts
 * const app = new Hono();
 * versionRoutes(app);
 * await app.request("/api/version"); // {"version":"0.1.0","commit":"","build_date":""}
 * ```
 */
export function versionRoutes(app: Hono): void {
  app.get("/api/version", (c) => c.json({ version: VERSION, commit: "", build_date: "" }));
}
