/**
 * The table of subcommands and their options: the parser and the help text
 * both read it, so they cannot disagree.
 */

/** Subcommands `modelswap` knows. */
export type CommandName = "serve" | "validate" | "fake-upstream" | "replay" | "version" | "help";

/** One option. Without `value` it is a switch (`--flag`, or Go's `-flag=false`). */
export interface FlagSpec {
  /** Long name without dashes; `-name` and `--name` both work. */
  name: string;
  /** Placeholder for the value in help (`FILE`, `N`); absent for switches. */
  value?: string;
  /** The value when the flag is absent: the parser reads it like a given one, and help shows it. */
  default?: string;
  /** What help shows as the default where it depends on other flags or the environment, or needs a word. */
  defaultNote?: string;
  help: string;
  /** Other accepted names, without dashes (`h` for help). */
  aliases?: string[];
}

export interface PositionalSpec {
  name: string;
  help: string;
}

export interface CommandSpec {
  name: CommandName;
  summary: string;
  /** Usage lines after `modelswap `. */
  usage: string[];
  flags: FlagSpec[];
  positionals: PositionalSpec[];
}

const HELP: FlagSpec = { name: "help", help: "Print help", aliases: ["h"] };
const CONFIG: FlagSpec = { name: "config", value: "FILE", default: "config.yaml", help: "Configuration file" };
const CONFIG_DIR: FlagSpec = {
  name: "config-dir",
  value: "DIR",
  help: "Also read every *.yml/*.yaml file in DIR (sorted by name), merged additively with --config as llama-swap does",
};
const STRICT: FlagSpec = { name: "strict", help: "Treat unknown config keys as errors (by default they are warnings, as llama-swap ignores them)" };

const SERVE_FLAGS: FlagSpec[] = [
  CONFIG,
  CONFIG_DIR,
  { name: "listen", value: "HOST:PORT", defaultNote: ":8080 (:8443 with TLS)", help: "Address to listen on; ':PORT' means every interface" },
  { name: "tls-cert-file", value: "FILE", help: "Serve HTTPS with this PEM certificate (needs --tls-key-file)" },
  { name: "tls-key-file", value: "FILE", help: "PEM private key of --tls-cert-file" },
  STRICT,
  { name: "watch-config", help: "Reload the configuration when the file changes" },
  { name: "state-dir", value: "DIR", defaultNote: "$XDG_RUNTIME_DIR/modelswap or /tmp/modelswap-UID", help: "Where pid records of model processes are kept" },
  { name: "record", value: "FILE", help: "Write every scheduler input event to FILE (JSON lines) for 'replay'" },
  { name: "test-hooks", help: "Enable the manual clock and /test/* routes (loopback addresses only)" },
  { name: "test-hooks-unsafe", help: "Allow --test-hooks on a non-loopback address" },
  { name: "version", help: "Print the version" },
  HELP,
];

const FAKE_UPSTREAM_FLAGS: FlagSpec[] = [
  { name: "port", value: "N", default: "0", defaultNote: "0 (any free port)", help: "Port to listen on" },
  { name: "host", value: "HOST", default: "127.0.0.1", help: "Address to bind" },
  { name: "model", value: "ID", help: "Model id to report; default: the one each request names" },
  { name: "start-delay", value: "DUR", default: "0", help: "Answer /health with 503 until DUR has passed; a unit is required (500ms, 2s, 1m)" },
  { name: "tokens", value: "N", default: "8", help: "Tokens per completion" },
  { name: "token-interval", value: "DUR", default: "10ms", help: "Time between streamed tokens; a unit is required (10ms, 1s)" },
  { name: "exit-after-requests", value: "N", help: "Exit with status 1 while answering the Nth request (mid-stream when streaming)" },
  { name: "health-fail", help: "Always answer /health with 503" },
  { name: "error-status", value: "N", help: "Answer every API request (not /health) with status N (400-599) and an OpenAI-style error body, as llama-server does" },
  { name: "ignore-sigterm", help: "Ignore SIGTERM (only SIGKILL stops it)" },
  { name: "verbose", help: "Print one line per request" },
  HELP,
];

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  { name: "serve", summary: "Run the proxy (the default command)", usage: ["[serve] [OPTIONS]"], positionals: [], flags: SERVE_FLAGS },
  {
    name: "validate",
    summary: "Check a configuration file and exit",
    usage: ["validate [FILE | --config FILE] [--config-dir DIR] [--strict]"],
    positionals: [{ name: "FILE", help: "Configuration file (same as --config FILE)" }],
    flags: [CONFIG, CONFIG_DIR, STRICT, HELP],
  },
  {
    name: "fake-upstream",
    summary: "Run a fake OpenAI-compatible model server (for tests and demos)",
    usage: ["fake-upstream --port N [OPTIONS]"],
    positionals: [],
    flags: FAKE_UPSTREAM_FLAGS,
  },
  {
    name: "replay",
    summary: "Replay a file written by 'serve --record' through the scheduler core",
    usage: ["replay FILE [--check]"],
    positionals: [{ name: "FILE", help: "Recording to replay" }],
    flags: [{ name: "check", help: "Compare the effects with the recorded ones and fail on a difference" }, HELP],
  },
  { name: "version", summary: "Print the version", usage: ["version"], positionals: [], flags: [HELP] },
  {
    name: "help",
    summary: "Print help for modelswap or one command",
    usage: ["help [COMMAND]"],
    positionals: [{ name: "COMMAND", help: "Command to explain" }],
    flags: [HELP],
  },
];

/** The spec of `name`; every CommandName has one. */
export function commandSpec(name: CommandName): CommandSpec {
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) throw new Error(`Cannot find command spec: '${name}' is not in COMMANDS`);
  return spec;
}

/** True when `name` is a subcommand. */
export function isCommandName(name: string): name is CommandName {
  return COMMANDS.some((c) => c.name === name);
}
