/**
 * Import rules checked by `npm test` (dependency-cruiser over src/).
 *
 * Layers, top to bottom; a module may import its own layer and those below it,
 * never one above (why: an upward import ties a low layer to a caller, and the
 * next edit turns it into a cycle):
 *
 *   main.ts → cli → http → observe → metrics → scheduler → supervisor, config → lib
 *   http → system, ui (the web UI's server side: its bundle, and ui/wire.ts, the types of what /api/events sends);
 *   ui/app (browser code) → ui/wire.ts, metrics (types only)
 *
 * fake-upstream is a leaf the CLI starts: it may import only lib.
 */
const layers = [
  { name: "cli", path: "^src/cli/", may: ["cli", "http", "observe", "metrics", "system", "scheduler", "supervisor", "config", "hardware", "lib", "fake-upstream"] },
  { name: "http", path: "^src/http/", may: ["http", "observe", "metrics", "system", "ui", "scheduler", "supervisor", "config", "hardware", "lib"] },
  { name: "observe", path: "^src/observe/", may: ["observe", "metrics", "scheduler", "config", "lib"] },
  { name: "metrics", path: "^src/metrics/", may: ["metrics", "scheduler", "config", "lib"] },
  { name: "system", path: "^src/system/", may: ["system", "lib"] },
  { name: "ui", path: "^src/ui/", may: ["ui", "metrics"] },
  { name: "scheduler", path: "^src/scheduler/", may: ["scheduler", "supervisor", "config", "lib"] },
  { name: "supervisor", path: "^src/supervisor/", may: ["supervisor", "lib"] },
  { name: "config", path: "^src/config/", may: ["config", "hardware", "lib"] },
  { name: "hardware", path: "^src/hardware/", may: ["hardware", "lib"] },
  { name: "lib", path: "^src/lib/", may: ["lib"] },
  { name: "fake-upstream", path: "^src/fake-upstream/", may: ["fake-upstream", "lib"] },
];
const all = layers.map((l) => l.name);

/** One forbidden import: `from` may not import `to`; `comment` says why, in the error. */
const forbid = (name, comment, from, to) => ({ name, severity: "error", comment, from, to });

module.exports = {
  forbidden: [
    forbid("no-circular", "An import cycle: modules that cannot be read, tested or loaded one without the other.", { path: "^src/" }, { circular: true }),
    ...layers.map((l) =>
      forbid(
        `layer-${l.name}`,
        `${l.name} imports only from: ${l.may.join(", ")} (layer order: cli → http → observe → metrics → scheduler → supervisor/config → lib; system and ui beside http's rooms).`,
        { path: l.path },
        { path: `^src/(${all.filter((n) => !l.may.includes(n)).join("|")})/` },
      ),
    ),
    forbid("http-one-door", "Outside src/http, import the HTTP front only through src/http/index.ts.", { path: "^src/", pathNot: "^src/http/" }, { path: "^src/http/", pathNot: "^src/http/index\\.ts$" }),
    forbid("hardware-one-door", "Outside src/hardware, import it only through src/hardware/index.ts.", { path: "^src/", pathNot: "^src/hardware/" }, { path: "^src/hardware/", pathNot: "^src/hardware/index\\.ts$" }),
    forbid("observe-one-door", "Outside src/observe, import logs and events only through src/observe/index.ts.", { path: "^src/", pathNot: "^src/observe/" }, { path: "^src/observe/", pathNot: "^src/observe/index\\.ts$" }),
    forbid("routes-independent", "A route family never imports another route file: shared helpers live in a module of their own.", { path: "^src/http/routes/([^/]+)\\.ts$" }, { path: "^src/http/routes/", pathNot: "^src/http/routes/$1\\.ts$" }),
    forbid("http-rooms-downward", "Inside src/http the request pipeline runs down: app/server → routes → edge, resolve, forward, ui → state, exchange, errors → stream. Nothing below routes imports a route, the app or the server.", { path: "^src/http/(edge|resolve|forward|ui|stream)/|^src/http/(state|exchange|errors)\\.ts$" }, { path: "^src/http/routes/|^src/http/(app|server|index)\\.ts$" }),
    forbid("stream-is-a-leaf-room", "stream/ holds the stream primitives every room uses; it imports nothing else from src/http.", { path: "^src/http/stream/" }, { path: "^src/http/", pathNot: "^src/http/stream/" }),
    forbid("door-is-for-outside", "Modules inside src/http import each other directly, never through their own door (it would make every room depend on all of them).", { path: "^src/http/" }, { path: "^src/http/index\\.ts$" }),
    forbid("ui-wire-imports-nothing", "src/ui/wire.ts is type-checked as browser code and as server code: it may import nothing.", { path: "^src/ui/wire\\.ts$" }, { path: "^src/" }),
    forbid("sse-format-imports-nothing", "The SSE formatter is a leaf: everything may use it, so it may use nothing.", { path: "^src/http/stream/sse\\.ts$" }, { path: "^src/" }),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // src/ui/app is browser code (TSX, DOM types): its own tsconfig type-checks it, and the swc
    // parser configured here reads .tsx as plain TypeScript. It imports only src/metrics types.
    exclude: { path: "node_modules|^src/ui/app/" },
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
  },
};
