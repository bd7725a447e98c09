/**
 * The argv actually spawned for a model server: its program resolved on PATH
 * up front (so a missing binary is a spawn failure, not an exit of a wrapper),
 * behind `setpriv --pdeathsig KILL` on Linux, because children spawned from a
 * Worker thread do not get Bun's own parent-death cleanup.
 *
 * setpriv arms the signal some milliseconds after the fork (on a loaded
 * machine, tens): a modelswap killed in between has already died, nothing
 * fires, and the server runs on as an orphan (seen: 10 of 120 SIGKILLs during
 * a model start under load). So a POSIX shell runs between setpriv and the
 * server and checks, with the signal armed, that its parent is still
 * modelswap; if not, it exits 125 instead of starting the server.
 */

let setprivPath: string | null | undefined;
let shPath: string | null | undefined;

/** The exit status of a launch whose parent was already gone (the server was never started). */
export const ORPHANED_LAUNCH_STATUS = 125;

/** Runs "$@" only while its parent is the pid in $1 (a parent that died before setpriv armed the signal is not). */
const PARENT_GUARD = `[ "$PPID" = "$1" ] || exit ${ORPHANED_LAUNCH_STATUS}; shift; exec "$@"`;

/** Path of util-linux `setpriv`, or null where it is missing or not Linux; looked up once. */
export function findSetpriv(): string | null {
  if (setprivPath === undefined) setprivPath = process.platform === "linux" ? Bun.which("setpriv") : null;
  return setprivPath;
}

/** Path of `/bin/sh`, or null where there is none; looked up once. */
function findSh(): string | null {
  if (shPath === undefined) shPath = Bun.which("sh", { PATH: "/bin:/usr/bin" });
  return shPath;
}

/**
 * Resolves `argv[0]` on the PATH of `env` and prefixes the parent-death
 * wrapper when available (with the guard that the parent, `parentPid`, is
 * still there once the signal is armed). Throws a `TypeError` when the
 * program is not found.
 *
 * @example
 * ```ts
 * launchArgv(["llama-server", "--port", "8080"], process.env);
 * // ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/bin/sh", "-c", PARENT_GUARD, "modelswap-launch",
 * //  "4242", "/usr/local/bin/llama-server", "--port", "8080"]
 * ```
 */
export function launchArgv(argv: readonly string[], env: Record<string, string | undefined>, parentPid = process.pid): string[] {
  const resolved = resolveArgv(argv, env);
  const setpriv = findSetpriv();
  if (setpriv === null) return resolved;
  const sh = findSh();
  const guarded = sh === null ? resolved : [sh, "-c", PARENT_GUARD, "modelswap-launch", String(parentPid), ...resolved];
  return [setpriv, "--pdeathsig", "KILL", "--", ...guarded];
}

/** `argv` with its program resolved on the PATH of `env`; throws a `TypeError` when empty or not found. */
export function resolveArgv(argv: readonly string[], env: Record<string, string | undefined>): string[] {
  const [program, ...args] = argv;
  if (program === undefined || program === "") throw new TypeError("Cannot spawn the process as 'argv' is empty");
  const resolved = Bun.which(program, { PATH: env.PATH ?? "" });
  // The PATH itself is not in the message: it reaches HTTP clients, and says more about the host than they need.
  if (resolved === null) throw new TypeError(`Cannot find the executable '${program}' on PATH: install it or fix the model's cmd`);
  return [resolved, ...args];
}

/** Replaces every "${PID}" in a cmdStop argv with the server's pid. */
export function stopArgvFor(stopArgv: readonly string[], pid: number): string[] {
  return stopArgv.map((arg) => arg.replaceAll("${PID}", String(pid)));
}
