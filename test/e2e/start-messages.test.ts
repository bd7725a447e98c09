/**
 * What a client reads when a model cannot start: one "Cannot start model"
 * prefix, never the server's PATH, a backoff message that reads as a
 * sentence, and a 504 health_timeout with the server's last output lines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tempDir } from "../helpers/configs.ts";
import { fake, finishSwapFile, startSwapServer, type SwapServer } from "./swap-harness.ts";

const tmp = tempDir("modelswap-start-messages-");
let ms: SwapServer;
beforeAll(async () => {
  ms = await startSwapServer(tmp, {
    models: {
      typo: { cmd: "llama-servr-not-installed --port ${PORT}" },
      broken: { cmd: "sh -c 'echo cannot open model file; exit 3' --port ${PORT}" },
      quiet: "--health-fail",
      chatty: { cmd: `sh -c 'echo loading weights; echo 42 layers offloaded; exec ${fake("--health-fail")}'` },
    },
  });
});
afterAll(() => finishSwapFile(ms, tmp));

const messageOf = async (res: Response): Promise<string> => ((await res.json()) as { error: { message: string } }).error.message;

describe("start failure messages", () => {
  test("a program not on PATH: the model named once, no PATH listing", async () => {
    const res = await ms.chat("typo");
    expect(res.status).toBe(502);
    expect(await messageOf(res)).toBe("Cannot start model 'typo': Cannot find the executable 'llama-servr-not-installed' on PATH: install it or fix the model's cmd");
  });

  test("restart backoff: a sentence with the model id and the seconds left", async () => {
    const res = await ms.chat("typo");
    expect(res.status).toBe(503);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(await messageOf(res)).toBe(`Cannot start model 'typo' yet: it is in restart backoff for ${retryAfter} s more`);
  });

  test("a server that exits: the model named once, then its output", async () => {
    const res = await ms.chat("broken");
    expect(res.status).toBe(502);
    expect(await messageOf(res)).toBe("Cannot start model 'broken': the process exited with exit code 3 before it was healthy\ncannot open model file");
  });

  test("health_timeout: 504 with the server's last output lines", async () => {
    const since = await ms.lastSeq();
    const pending = ms.chat("chatty");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "chatty" && e.state === "starting", since);
    // The output is read as it comes: wait until the server printed both lines before the deadline passes.
    // Its own output only (source upstream): the lifecycle line "starting: sh -c '… 42 layers …'" names the
    // command, arrives before the process printed anything, and let the clock move too early under load.
    await ms.waitEvent((e) => e.kind === "log" && e.source === "upstream" && e.model === "chatty" && e.line === "42 layers offloaded", since);
    await ms.advance(15_000);
    const res = await pending;
    expect(res.status).toBe(504);
    expect(await messageOf(res)).toBe("Cannot start model 'chatty': it was not healthy within 15 s; its last output:\nloading weights\n42 layers offloaded");
  });

  test("health_timeout of a server that printed nothing says so", async () => {
    const since = await ms.lastSeq();
    const pending = ms.chat("quiet");
    await ms.waitEvent((e) => e.kind === "modelState" && e.model === "quiet" && e.state === "starting", since);
    await ms.advance(15_000);
    const res = await pending;
    expect(res.status).toBe(504);
    expect(await messageOf(res)).toBe("Cannot start model 'quiet': it was not healthy within 15 s (it printed nothing)");
  });
});
