/**
 * The HTTP front's door: everything outside `src/http` imports from here.
 *
 * `startHttpServer` serves the front on a socket; `createFetch` is the handler
 * it serves (tests request it in process, as production serves it); `AppDeps` is what the front is given.
 * The rooms behind this door are described in `design.md`.
 */
export { startHttpServer, type HttpServer, type TlsFiles } from "./server.ts";
export { createFetch, type AppOptions, type ServeFetch } from "./app.ts";
export type { AppDeps } from "./state.ts";
