/**
 * `modelswap fake-upstream`: runs the fake model server in the foreground
 * until SIGTERM/SIGINT (or SIGKILL only, with `--ignore-sigterm`).
 */
import { startFakeUpstream } from "../fake-upstream/server.ts";
import type { FakeUpstreamOptions } from "./args.ts";

/** Serves until a signal arrives and resolves with the exit status (0). */
export async function runFakeUpstream(options: FakeUpstreamOptions): Promise<number> {
  const up = startFakeUpstream(options);
  const exit = new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      process.stdout.write(`fake-upstream: ${signal} received, exiting\n`);
      void up.stop().then(() => resolve(0), () => resolve(0));
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => {
      if (options.ignoreSigterm) process.stdout.write("fake-upstream: ignoring SIGTERM\n");
      else stop("SIGTERM");
    });
  });
  // Announce only once the handlers are in place: whoever waits for this line may send SIGTERM at once
  // (printed first, about 1 run in 30 died of a SIGTERM sent right after it, measured on Bun 1.4.5).
  process.stdout.write(`fake-upstream listening on ${up.url}\n`);
  return await exit;
}
