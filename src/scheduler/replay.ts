/**
 * `--record` and `modelswap replay`: every core input is one JSON line, so a
 * session's decisions can be reproduced and checked without processes.
 *
 * Line kinds: `{"kind":"init","now","config"}` first (again for each later run
 * recorded to the same file: records are appended), then per input
 * `{"kind":"event","event"}` followed by `{"kind":"effects","random":[…],"effects":[…]}`
 * (`random` lists the values the core drew for backoff jitter while handling it).
 */
import { appendFileSync } from "node:fs";
import type { Config } from "../config/types.ts";
import { SchedulerCore } from "./core.ts";
import type { CoreEvent, Effect } from "./core-types.ts";

export type RecordLine =
  | { kind: "init"; now: number; config: Config }
  | { kind: "event"; event: CoreEvent }
  | { kind: "effects"; random: number[]; effects: Effect[] };

/** Appends record lines to a file; a failing write is reported once, not fatal. */
export class Recorder {
  readonly #file: string;
  #broken = false;
  constructor(file: string) {
    this.#file = file;
  }
  write(line: RecordLine): void {
    if (this.#broken) return;
    try {
      appendFileSync(this.#file, JSON.stringify(line) + "\n");
    } catch (err) {
      this.#broken = true;
      console.error(`Cannot write the scheduler record, recording stops: ${this.#file}: ${String(err)}`);
    }
  }
}

/** One replayed input and what the core decided, next to what was recorded. */
export interface Decision {
  event: CoreEvent;
  effects: Effect[];
  recorded: Effect[] | null;
  /** True when `recorded` exists and differs from `effects`. */
  mismatch: boolean;
}

/**
 * Feeds recorded events to a fresh core and returns its decisions.
 * `config` overrides the recorded init config (null: use the recorded one).
 *
 * @example
 * ```ts
 * const bad = replay(text.split("\n"), null).filter((d) => d.mismatch);
 * ```
 */
export function replay(lines: string[], config: Config | null): Decision[] {
  const parsed = lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as RecordLine);
  let randoms: number[] = [];
  const fresh = (init: RecordLine | undefined): SchedulerCore => {
    const cfg = config ?? (init?.kind === "init" ? init.config : null);
    if (cfg === null) throw new TypeError("Cannot replay the record as it has no init line and no config was given");
    return new SchedulerCore(cfg, { now: init?.kind === "init" ? init.now : 0, random: () => randoms.shift() ?? 0 });
  };
  let core = fresh(parsed.find((l) => l.kind === "init"));
  const out: Decision[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const line = parsed[i]!;
    // `--record` appends: each init line starts the core of another run, as modelswap did.
    if (line.kind === "init" && i > 0) core = fresh(line);
    if (line.kind !== "event") continue;
    const next = parsed[i + 1];
    const recorded = next?.kind === "effects" ? next : null;
    randoms = recorded ? [...recorded.random] : [];
    const effects = core.handle(line.event);
    const mismatch = recorded !== null && JSON.stringify(recorded.effects) !== JSON.stringify(effects);
    out.push({ event: line.event, effects, recorded: recorded?.effects ?? null, mismatch });
  }
  return out;
}
