/**
 * modelswap's composition root: parse argv, run one subcommand, exit with
 * its status. Every subcommand lives in src/cli/.
 */
import { parseArgs, UsageError, type Command } from "./cli/args.ts";
import { helpText, usageText } from "./cli/help.ts";
import { versionText } from "./lib/version.ts";
import { LOAD_CONFIG_COMMAND } from "./cli/config-process.ts";
import { drainStdio } from "./lib/stdio.ts";

/**
 * How long a finished command waits for a slow reader of its stdout and
 * stderr before it exits: bounded, so a reader that stopped reading does not
 * keep a stopped modelswap alive (an orchestrator's stop timeout is ~10 s).
 */
const OUTPUT_DRAIN_MS = 2000;

/** How much more reluctant to compile JavaScriptCore is while `serve` loads and starts (`Bun.unsafe.setJITPolicy`). */
const STARTUP_JIT_POLICY = 10;

/** Runs `command` (parsed from `argv`) and resolves with the process exit status. */
async function run(command: Command, argv: string[]): Promise<number> {
  switch (command.kind) {
    case "help":
      process.stdout.write(helpText(command.topic));
      return 0;
    case "version":
      process.stdout.write(`${versionText()}\n`);
      return 0;
    case "validate": {
      const { validate } = await import("./cli/validate.ts");
      return validate(command.options);
    }
    case "serve": {
      const { ensureRuntimeSettings } = await import("./cli/reexec.ts");
      ensureRuntimeSettings(argv);
      // Loading and starting is code that runs once: not worth compiling (serve sets the policy back to 1
      // once it listens). Measured: idle RSS -0.7 MB (3 interleaved runs, bench/mem-idle.ts).
      Bun.unsafe.setJITPolicy(STARTUP_JIT_POLICY);
      const { serve } = await import("./cli/serve.ts");
      return serve(command.options);
    }
    case "fake-upstream": {
      const { runFakeUpstream } = await import("./cli/fake-upstream.ts");
      return runFakeUpstream(command.options);
    }
    case "replay": {
      const { runReplay } = await import("./cli/replay.ts");
      return runReplay(command.file, command.check);
    }
    default: {
      const unreachable: never = command;
      throw new Error(`Cannot run command: unknown kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Entry point: exit 2 with a one-line error and the usage for a bad command line. */
async function main(argv: string[]): Promise<never> {
  // `serve` loads its config in a child running this (src/cli/config-process.ts); never typed by a user.
  if (argv[0] === LOAD_CONFIG_COMMAND) {
    const { runConfigChild } = await import("./cli/config-child.ts");
    process.exit(await runConfigChild());
  }
  let command: Command;
  try {
    command = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`modelswap: ${error.message}\n\n${usageText(error.command)}`);
    process.exit(2);
  }
  let code: number;
  try {
    code = await run(command, argv);
  } catch (error) {
    process.stderr.write(`modelswap: ${error instanceof Error ? error.message : String(error)}\n`);
    code = 1;
  }
  // What a slow reader has not taken yet would be lost by the exit (src/lib/stdio.ts).
  await drainStdio(OUTPUT_DRAIN_MS);
  process.exit(code);
}

if (import.meta.main) await main(process.argv.slice(2));
