/**
 * The web UI in a real browser (Debian's chromium through playwright-core)
 * against a real modelswap with fake-upstream models: what a person sees.
 * Screenshots of each page go to docs/screenshots/ (shown in the README) when
 * MODELSWAP_SCREENSHOTS=1, else to a temporary directory, so a test run does
 * not rewrite tracked files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { tempDir } from "../helpers/configs.ts";
import { REPO_ROOT } from "../helpers/processes.ts";
import { finishSwapFile, startSwapServer, type SwapServer } from "./swap-harness.ts";

let SHOTS = "";
/** How long a person would wait for the page to change. */
const SEE = { timeout: 15_000 };

let tmp: ReturnType<typeof tempDir>;
let ms: SwapServer;
let browser: TestBrowser;

beforeAll(async () => {
  tmp = tempDir("modelswap-ui-");
  ms = await startSwapServer(tmp, {
    models: {
      "llama-8b": { args: "--tokens 12 --token-interval 40ms", yaml: 'name: "Llama 3.1 8B"\ndescription: "general chat"\naliases: [llama]' },
      "qwen-coder": { args: "--tokens 6 --token-interval 10ms", yaml: 'description: "code completion"' },
      // A YAML double-quoted scalar: the command itself holds quotes and a colon.
      broken: { cmd: `"sh -c 'echo loading weights from /models/broken.gguf for port \${PORT}; echo error - failed to allocate 24 GiB of VRAM >&2; exit 3'"` },
    },
  });
  browser = await launchBrowser();
  SHOTS = process.env.MODELSWAP_SCREENSHOTS ? `${REPO_ROOT}/docs/screenshots` : `${tmp.path}/screenshots`;
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await finishSwapFile(ms, tmp);
}, 60_000);

const row = (page: Page, id: string) => page.getByTestId(`model-${id}`);
const state = (page: Page, id: string) => page.getByTestId(`state-${id}`);

describe("the web UI", () => {
  test("GET / leads to the UI, which lists every model with its description and aliases", async () => {
    const page = await browser.page(`${ms.url}/`);
    expect(page.url()).toBe(`${ms.url}/ui/`);
    await expect_text(row(page, "llama-8b"), /general chat/);
    await expect_text(row(page, "llama-8b"), /aliases: llama/);
    await expect_text(state(page, "qwen-coder"), /^stopped$/);
    await page.close();
  });

  test("Load shows a model starting, then ready; Unload stops it", async () => {
    const page = await browser.page(`${ms.url}/ui/`);
    await fetch(`${ms.url}/test/models/llama-8b/health`, { method: "POST", body: JSON.stringify({ fail: true }) });
    await page.getByTestId("load-llama-8b").click();
    await expect_text(state(page, "llama-8b"), /^starting$/);
    await fetch(`${ms.url}/test/models/llama-8b/health`, { method: "POST", body: JSON.stringify({ fail: false }) });
    await expect_text(state(page, "llama-8b"), /^ready$/);
    await page.getByTestId("unload-llama-8b").click();
    await expect_text(state(page, "llama-8b"), /^stopped$/);
    await page.close();
  });

  test("a model that fails to start shows failed/backoff with its exit code and last output", async () => {
    const page = await browser.page(`${ms.url}/ui/`);
    await page.getByTestId("load-broken").click();
    await expect_text(state(page, "broken"), /^(backoff|failed)$/);
    await expect_text(page.getByTestId("error-broken"), /exit code 3/);
    await expect_text(page.getByTestId("error-broken"), /failed to allocate 24 GiB of VRAM/);
    await expect_text(page.getByTestId("retry-broken"), /next (try in|request retries)/);
    await page.screenshot({ path: `${SHOTS}/models.png` });
    await page.close();
  });

  test("the playground streams a reply; the activity table gains a row with token counts", async () => {
    const page = await browser.page(`${ms.url}/ui/#/playground`);
    await page.getByTestId("chat-model").selectOption("llama-8b");
    await page.getByTestId("chat-input").fill("Say hello");
    await page.getByTestId("chat-send").click();
    // Mid-stream: part of the reply is on screen while the Stop button is still there.
    await expect_text(page.getByTestId("chat-messages"), /assistant\s*Hello from/);
    await page.getByTestId("chat-stop").waitFor({ state: "detached", ...SEE });
    await expect_text(page.getByTestId("chat-messages"), /Hello from the fake upstream, one token at a time\./);
    await page.screenshot({ path: `${SHOTS}/playground.png` });

    await page.goto(`${ms.url}/ui/#/activity`);
    const table = page.getByTestId("activity-table");
    const chat = table.locator("tbody tr", { hasText: "/v1/chat/completions" }).first();
    await chat.waitFor(SEE);
    await expect_text(chat.locator('[data-col="prompt"]'), /^[1-9]\d*$/);
    await expect_text(chat.locator('[data-col="generated"]'), /^12$/);
    await page.screenshot({ path: `${SHOTS}/activity.png` });

    await chat.getByRole("button", { name: "View" }).click();
    await expect_text(page.getByTestId("capture-request"), /Say hello/);
    await page.close();
  });

  test("the logs page shows lifecycle lines; a model page shows its own output", async () => {
    const page = await browser.page(`${ms.url}/ui/#/logs`);
    await expect_text(page.getByTestId("log-lines"), /\[broken\] start failed after/);
    await page.screenshot({ path: `${SHOTS}/logs.png` });
    await page.goto(`${ms.url}/ui/#/model/broken`);
    await expect_text(page.getByTestId("model-log"), /loading weights from \/models\/broken.gguf/);
    await page.screenshot({ path: `${SHOTS}/model.png` });
    await page.close();
  });

  test("after a disconnect the page says it is stale, then resumes from the last event: nothing lost, nothing twice", async () => {
    const page = await browser.page(`${ms.url}/ui/#/logs`);
    await expect_text(page.getByTestId("connection"), /^live/);
    await expect_text(page.getByTestId("log-lines"), /\[broken\] start failed/);
    const before = ((await page.getByTestId("log-lines").textContent()) ?? "").split("\n");
    const drop = await fetch(`${ms.url}/test/events/drop`, { method: "POST" });
    expect(((await drop.json()) as { dropped: number }).dropped).toBeGreaterThanOrEqual(1);
    await expect_text(page.getByTestId("connection"), /disconnected/);
    // While the page is away: a model starts and serves a request.
    await (await ms.chat("qwen-coder")).text();
    await expect_text(page.getByTestId("connection"), /^live/);
    await expect_text(page.getByTestId("log-lines"), /\[qwen-coder\] ready after/);
    const lines = ((await page.getByTestId("log-lines").textContent()) ?? "").split("\n");
    const starting = lines.filter((l) => l.includes("[qwen-coder] starting:"));
    const ready = lines.filter((l) => l.includes("[qwen-coder] ready after"));
    expect([starting.length, ready.length]).toEqual([1, 1]);
    expect(lines.indexOf(starting[0]!)).toBeLessThan(lines.indexOf(ready[0]!));
    // What the page had is still there once, in place (a fresh snapshot would have appended the history again).
    expect(lines.slice(0, before.length)).toEqual(before);
    expect(lines.filter((l) => l.includes("[broken] start failed"))).toHaveLength(before.filter((l) => l.includes("[broken] start failed")).length);
    await page.close();
  });

  test("the page runs under its CSP with no error in the console", () => {
    // A failed Load answers 502 (expected); nothing else may be logged, CSP violations included.
    expect(browser.errors.filter((e) => !/Failed to load resource: the server responded with a status of (502|503)/.test(e))).toEqual([]);
  });
});

/** Waits until the element's text matches, as a person looking at the page would (playwright polls with a deadline). */
async function expect_text(locator: ReturnType<Page["getByTestId"]>, re: RegExp): Promise<void> {
  try {
    await locator.filter({ hasText: re }).first().waitFor(SEE);
  } catch {
    const seen = ((await locator.first().textContent({ timeout: 1000 }).catch(() => null)) ?? "").trim();
    throw new Error(`Expected text matching ${re}, saw ${JSON.stringify(seen)}`);
  }
}
