/**
 * Import rules checked by `npm test` (dependency-cruiser over src/).
 *
 * Layers, top to bottom; a module may import its own layer and those below it,
 * never one above (why: an upward import ties a low layer to a caller, and the
 * next edit turns it into a cycle):
 *
 *   main.ts → cli → http → observe → scheduler → supervisor, config → lib
 *
 * fake-upstream is a leaf the CLI starts: it may import only lib.
 */
const layers = [
  { name: "cli", path: "^src/cli/", may: ["cli", "http", "observe", "scheduler", "supervisor", "config", "lib", "fake-upstream"] },
  { name: "http", path: "^src/http/", may: ["http", "observe", "scheduler", "supervisor", "config", "lib"] },
  { name: "observe", path: "^src/observe/", may: ["observe", "scheduler", "config", "lib"] },
  { name: "scheduler", path: "^src/scheduler/", may: ["scheduler", "supervisor", "config", "lib"] },
  { name: "supervisor", path: "^src/supervisor/", may: ["supervisor", "lib"] },
  { name: "config", path: "^src/config/", may: ["config", "lib"] },
  { name: "lib", path: "^src/lib/", may: ["lib"] },
  { name: "fake-upstream", path: "^src/fake-upstream/", may: ["fake-upstream", "lib"] },
];
const all = layers.map((l) => l.name);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: modules that cannot be read, tested or loaded one without the other.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...layers.map((l) => ({
      name: `layer-${l.name}`,
      severity: "error",
      comment: `${l.name} imports only from: ${l.may.join(", ")} (layer order: cli → http → observe → scheduler → supervisor/config → lib).`,
      from: { path: l.path },
      to: { path: `^src/(${all.filter((n) => !l.may.includes(n)).join("|")})/` },
    })),
    {
      name: "http-one-door",
      severity: "error",
      comment: "Outside src/http, import the HTTP front only through src/http/index.ts.",
      from: { path: "^src/", pathNot: "^src/http/" },
      to: { path: "^src/http/", pathNot: "^src/http/index\\.ts$" },
    },
    {
      name: "observe-one-door",
      severity: "error",
      comment: "Outside src/observe, import logs and events only through src/observe/index.ts.",
      from: { path: "^src/", pathNot: "^src/observe/" },
      to: { path: "^src/observe/", pathNot: "^src/observe/index\\.ts$" },
    },
    {
      name: "routes-independent",
      severity: "error",
      comment: "A route family never imports another route file: shared helpers live in a module of their own.",
      from: { path: "^src/http/routes/([^/]+)\\.ts$" },
      to: { path: "^src/http/routes/", pathNot: "^src/http/routes/$1\\.ts$" },
    },
    {
      name: "http-rooms-downward",
      severity: "error",
      comment: "Inside src/http the request pipeline runs down: app/server → routes → edge, resolve, forward, ui → state, exchange, errors → stream. Nothing below routes imports a route, the app or the server.",
      from: { path: "^src/http/(edge|resolve|forward|ui|stream)/|^src/http/(state|exchange|errors)\\.ts$" },
      to: { path: "^src/http/routes/|^src/http/(app|server|index)\\.ts$" },
    },
    {
      name: "stream-is-a-leaf-room",
      severity: "error",
      comment: "stream/ holds the stream primitives every room uses; it imports nothing else from src/http.",
      from: { path: "^src/http/stream/" },
      to: { path: "^src/http/", pathNot: "^src/http/stream/" },
    },
    {
      name: "door-is-for-outside",
      severity: "error",
      comment: "Modules inside src/http import each other directly, never through their own door (it would make every room depend on all of them).",
      from: { path: "^src/http/" },
      to: { path: "^src/http/index\\.ts$" },
    },
    {
      name: "sse-format-imports-nothing",
      severity: "error",
      comment: "The SSE formatter is a leaf: everything may use it, so it may use nothing.",
      from: { path: "^src/http/stream/sse\\.ts$" },
      to: { path: "^src/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
  },
};
