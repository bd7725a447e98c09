/**
 * Usage text in the style of cargo and git: a one-line description, USAGE,
 * COMMANDS, OPTIONS with their defaults.
 */
import { commandSpec, COMMANDS, type CommandName, type FlagSpec } from "./commands.ts";

const DESCRIPTION = "One OpenAI-compatible address for many local model servers, started and swapped on demand";

function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = flags.map((f) => {
    const short = (f.aliases ?? []).filter((a) => a.length === 1).map((a) => `-${a}, `).join("");
    return `  ${short || "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return flags.map((f, i) => {
    const shown = f.defaultNote ?? f.default;
    return `${left[i]!.padEnd(width)}${f.help}${shown !== undefined ? ` [default: ${shown}]` : ""}`;
  });
}

/**
 * The help page for `command`, or the general one for null.
 *
 * @example
 * ```ts
 * console.log(helpText("validate"));
 * ```
 */
export function helpText(command: CommandName | null): string {
  if (command === null) {
    const serve = commandSpec("serve");
    const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
    return [
      DESCRIPTION,
      "",
      "USAGE:",
      "  modelswap [serve] [OPTIONS]",
      "  modelswap <COMMAND> [OPTIONS]",
      "",
      "COMMANDS:",
      ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
      "",
      "OPTIONS (serve):",
      ...flagLines(serve.flags),
      "",
      "Single-dash spellings (-config FILE, -listen=:8080) work too.",
      "See 'modelswap help <COMMAND>' for more on one command.",
      "",
    ].join("\n");
  }
  const spec = commandSpec(command);
  const lines = [`modelswap ${spec.name}: ${spec.summary}`, "", "USAGE:", ...spec.usage.map((u) => `  modelswap ${u}`), ""];
  if (spec.positionals.length > 0) {
    const width = Math.max(...spec.positionals.map((p) => p.name.length)) + 2;
    lines.push("ARGUMENTS:", ...spec.positionals.map((p) => `  ${p.name.padEnd(width)}${p.help}`), "");
  }
  lines.push("OPTIONS:", ...flagLines(spec.flags), "");
  return lines.join("\n");
}

/** Short usage shown after a command-line error. */
export function usageText(command: CommandName | null): string {
  const spec = commandSpec(command ?? "serve");
  const usage = command === null ? ["[serve] [OPTIONS]", "<COMMAND> [OPTIONS]"] : spec.usage;
  return [
    "USAGE:",
    ...usage.map((u) => `  modelswap ${u}`),
    "",
    `For more information, try 'modelswap ${command === null ? "" : `${command} `}--help'.`,
    "",
  ].join("\n");
}
