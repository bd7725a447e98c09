/**
 * The argv actually spawned for a model server: its program resolved on PATH
 * up front (so a missing binary is a spawn failure, not an exit of a wrapper),
 * behind `setpriv --pdeathsig KILL` on Linux, because children spawned from a
 * Worker thread do not get Bun's own parent-death cleanup.
 */

let setprivPath: string | null | undefined;

/** Path of util-linux `setpriv`, or null where it is missing or not Linux; looked up once. */
export function findSetpriv(): string | null {
  if (setprivPath === undefined) setprivPath = process.platform === "linux" ? Bun.which("setpriv") : null;
  return setprivPath;
}

/**
 * Resolves `argv[0]` on the PATH of `env` and prefixes the parent-death
 * wrapper when available. Throws a `TypeError` when the program is not found.
 *
 * @example
 * ```ts
 * launchArgv(["llama-server", "--port", "8080"], process.env);
 * // ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/local/bin/llama-server", "--port", "8080"]
 * ```
 */
export function launchArgv(argv: readonly string[], env: Record<string, string | undefined>): string[] {
  const resolved = resolveArgv(argv, env);
  const setpriv = findSetpriv();
  return setpriv === null ? resolved : [setpriv, "--pdeathsig", "KILL", "--", ...resolved];
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
