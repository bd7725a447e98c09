/**
 * Command-line parsing: argv → one typed `Command`. Accepts GNU spellings
 * (`--config x`, `--config=x`) and the Go spellings llama-swap users have in
 * scripts (`-config x`, `-config=x`, `-watch-config`, `-version`).
 */
import { commandSpec, COMMANDS, isCommandName, type CommandName, type CommandSpec, type FlagSpec } from "./commands.ts";
import { parseDurationWithUnit } from "../lib/duration.ts";
import { parseListen, type ListenAddress } from "../lib/listen.ts";
import { closest } from "../lib/did-you-mean.ts";
import type { FakeUpstreamOptions } from "../fake-upstream/options.ts";

export type { FakeUpstreamOptions };

/** A command line that cannot be run; main prints it, then the usage, and exits 2. */
export class UsageError extends Error {
  /** Command whose usage should follow the message (null: the general one). */
  readonly command: CommandName | null;
  constructor(message: string, command: CommandName | null) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

export interface ServeOptions {
  config: string;
  /** False when `config` is the default: then a missing file means "serve the built-in demo config". */
  configGiven: boolean;
  /** `--config-dir`: every *.yml/*.yaml in it is merged with `config` (or used alone when no --config is given). */
  configDir: string | null;
  /** `--strict`: unknown config keys are errors. */
  strict: boolean;
  /** `--tls-cert-file` / `--tls-key-file`: serve HTTPS. */
  tls: TlsFiles | null;
  listen: ListenAddress;
  watchConfig: boolean;
  testHooks: boolean;
  testHooksUnsafe: boolean;
  record: string | null;
  stateDir: string;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/** What `validate` checks. */
export interface ValidateOptions {
  config: string;
  configGiven: boolean;
  configDir: string | null;
  strict: boolean;
}

/** What to run. */
export type Command =
  | { kind: "serve"; options: ServeOptions }
  | { kind: "validate"; options: ValidateOptions }
  | { kind: "fake-upstream"; options: FakeUpstreamOptions }
  | { kind: "replay"; file: string; check: boolean }
  | { kind: "version" }
  | { kind: "help"; topic: CommandName | null };

/** Process facts the defaults depend on; injectable for tests. */
export interface ArgsEnv {
  env: Record<string, string | undefined>;
  uid: number;
}

const realEnv = (): ArgsEnv => ({ env: process.env, uid: process.getuid?.() ?? 0 });

/** Where pid records go by default: `$XDG_RUNTIME_DIR/modelswap`, else `/tmp/modelswap-<uid>`. */
export function defaultStateDir(e: ArgsEnv = realEnv()): string {
  const xdg = e.env.XDG_RUNTIME_DIR;
  return xdg ? `${xdg.replace(/\/+$/, "")}/modelswap` : `/tmp/modelswap-${e.uid}`;
}

/**
 * Parses `process.argv.slice(2)` into a command, or throws `UsageError`.
 *
 * @example
 * ```ts
 * parseArgs(["-config", "a.yaml", "-listen=:9000"]);
 * // { kind: "serve", options: { config: "a.yaml", listen: { hostname: "0.0.0.0", port: 9000, … }, … } }
 * ```
 */
export function parseArgs(argv: readonly string[], e: ArgsEnv = realEnv()): Command {
  const first = argv[0];
  let name: CommandName = "serve";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    if (!isCommandName(first)) throw unknownCommand(first, null);
    name = first;
    rest = argv.slice(1);
  }
  const spec = commandSpec(name);
  // `modelswap --help` (no command named) gets the general help and usage, like git.
  const explicit = rest !== argv;
  try {
    const { values, positionals } = parseFlags(spec, rest);
    if (values.get("help") === true) return { kind: "help", topic: name === "help" || !explicit ? null : name };
    return build(spec, values, positionals, e);
  } catch (error) {
    if (error instanceof UsageError && !explicit) throw new UsageError(error.message, null);
    throw error;
  }
}

type Values = Map<string, string | boolean>;

/** `unknown command 'x' (did you mean 'y'?)`, with the usage of `usageOf` after it. */
function unknownCommand(name: string, usageOf: CommandName | null): UsageError {
  const hint = closest(name, COMMANDS.map((c) => c.name));
  return new UsageError(`unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ""}`, usageOf);
}

function build(spec: CommandSpec, v: Values, positionals: string[], e: ArgsEnv): Command {
  const name = spec.name;
  /** What the command line gave for `flag`, else null. */
  const given = (flag: string): string | null => (v.get(flag) as string | undefined) ?? null;
  /** What the command line gave, else the flag's default in the table (why: help shows that same default). */
  const valueOf = (flag: string): string => {
    const value = given(flag) ?? findFlag(spec, flag)?.default;
    if (value === undefined) throw new Error(`Cannot read option: '--${flag}' has no value and no default in COMMANDS`);
    return value;
  };
  /** The config files and strictness `serve` and `validate` share; `file` is validate's positional. */
  const target = (file?: string): ValidateOptions => ({
    config: file ?? valueOf("config"),
    configGiven: file !== undefined || v.has("config"),
    configDir: given("config-dir"),
    strict: v.get("strict") === true,
  });
  const maxPositionals = spec.positionals.length;
  if (positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${positionals[maxPositionals]}'`, name);
  }
  switch (name) {
    case "serve": {
      if (v.get("version") === true) return { kind: "version" };
      const tls = tlsFiles(v, name);
      const listenText = given("listen") ?? (tls ? ":8443" : ":8080");
      return {
        kind: "serve",
        options: {
          ...target(),
          tls,
          listen: convert("listen", () => parseListen(listenText), name),
          watchConfig: v.get("watch-config") === true,
          testHooks: v.get("test-hooks") === true,
          testHooksUnsafe: v.get("test-hooks-unsafe") === true,
          record: given("record"),
          stateDir: given("state-dir") ?? defaultStateDir(e),
        },
      };
    }
    case "validate": {
      const file = positionals[0];
      if (file !== undefined && v.has("config")) throw new UsageError(`give the config file once: both '${file}' and '--config ${given("config")}'`, name);
      return { kind: "validate", options: target(file) };
    }
    case "fake-upstream": {
      const int = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
        const raw = valueOf(flag);
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < min || n > max) {
          throw new UsageError(`invalid value '${raw}' for '--${flag}': expected an integer from ${min} to ${max}`, name);
        }
        return n;
      };
      const dur = (flag: string): number => convert(flag, () => parseDurationWithUnit(valueOf(flag)), name);
      return {
        kind: "fake-upstream",
        options: {
          port: int("port", 0, 65535),
          host: valueOf("host"),
          model: given("model"),
          startDelayMs: dur("start-delay"),
          tokens: int("tokens", 0),
          tokenIntervalMs: dur("token-interval"),
          exitAfterRequests: v.has("exit-after-requests") ? int("exit-after-requests", 1) : null,
          healthFail: v.get("health-fail") === true,
          errorStatus: v.has("error-status") ? int("error-status", 400, 599) : null,
          ignoreSigterm: v.get("ignore-sigterm") === true,
          verbose: v.get("verbose") === true,
        },
      };
    }
    case "replay": {
      const file = positionals[0];
      if (file === undefined) throw new UsageError("missing argument FILE", name);
      return { kind: "replay", file, check: v.get("check") === true };
    }
    case "version":
      return { kind: "version" };
    case "help": {
      const topic = positionals[0];
      if (topic === undefined) return { kind: "help", topic: null };
      if (!isCommandName(topic)) throw unknownCommand(topic, "help");
      return { kind: "help", topic };
    }
    default: {
      const unreachable: never = name;
      throw new Error(`Cannot build command: unknown name ${String(unreachable)}`);
    }
  }
}

/** Both TLS flags or neither (llama-swap refuses one without the other). */
function tlsFiles(v: Values, command: CommandName): TlsFiles | null {
  const cert = v.get("tls-cert-file") as string | undefined;
  const key = v.get("tls-key-file") as string | undefined;
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined) {
    throw new UsageError(`option '--${cert === undefined ? "tls-cert-file" : "tls-key-file"}' is required with '--${cert === undefined ? "tls-key-file" : "tls-cert-file"}': HTTPS needs both`, command);
  }
  return { cert, key };
}

/** Runs a value parser, turning its RangeError into a UsageError for `--flag`. */
function convert<T>(flag: string, parse: () => T, command: CommandName): T {
  try {
    return parse();
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^Cannot parse [^:]*: /, "") : String(error);
    throw new UsageError(`invalid value for '--${flag}': ${detail}`, command);
  }
}

/** Splits argv into option values (by long name) and positionals. */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): { values: Values; positionals: string[] } {
  const values: Values = new Map();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    const flag = findFlag(spec, key);
    if (!flag) {
      const names = spec.flags.map((f) => f.name);
      const hint = closest(key, names);
      throw new UsageError(`unknown option '${arg.slice(0, arg.length - body.length)}${key}'${hint ? ` (did you mean '--${hint}'?)` : ""}`, spec.name);
    }
    if (flag.value === undefined) {
      values.set(flag.name, switchValue(flag, inline, spec.name));
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && findFlag(spec, next.replace(/^--?/, "").split("=")[0]!))) {
        throw new UsageError(`option '--${flag.name}' requires a value ${flag.value}`, spec.name);
      }
      value = next;
      i++;
    }
    values.set(flag.name, value);
  }
  return { values, positionals };
}

function findFlag(spec: CommandSpec, key: string): FlagSpec | undefined {
  return spec.flags.find((f) => f.name === key || f.aliases?.includes(key));
}

/** Go's flag package accepts `-flag=true|false|1|0` for switches. */
function switchValue(flag: FlagSpec, inline: string | undefined, command: CommandName): boolean {
  if (inline === undefined) return true;
  if (/^(true|1|t)$/i.test(inline)) return true;
  if (/^(false|0|f)$/i.test(inline)) return false;
  throw new UsageError(`invalid value '${inline}' for '--${flag.name}': expected true or false`, command);
}
