/**
 * llama-server's web UI through modelswap's `/upstream/<model>/` in a real
 * browser (Debian's chromium through playwright-core): the gzip-only page and
 * its bundle load, and the page's relative API calls reach that model's
 * llama-server. The page is the build's stand-in for llama.cpp's Svelte UI
 * (not in the source bundle), served by llama-server the same way.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { tempDir } from "../helpers/configs.ts";
import { finishSwapFile, type SwapServer, startSwapServer } from "../e2e/swap-harness.ts";
import { llamaCmd, realEnv } from "./harness.ts";

/** How long a person would wait for the page to change. */
const SEE = { timeout: 15_000 };
const tmp = tempDir("modelswap-real-ui-");
let ms: SwapServer;
let browser: TestBrowser;

beforeAll(async () => {
  const env = await realEnv();
  ms = await startSwapServer(tmp, {
    hooks: false,
    top: "groups:\n  pair:\n    members: [alpha, beta]",
    models: { alpha: { cmd: llamaCmd(env, "alpha") }, beta: { cmd: llamaCmd(env, "beta") } },
  });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await finishSwapFile(ms, tmp);
}, 60_000);

/** Every answer of status 400 or more the browser got, with its URL (a console error names none). */
const failed: string[] = [];

test("the page at /upstream/alpha/ starts alpha, loads its bundle and talks to alpha's llama-server", async () => {
  browser.context.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  const page = await browser.page(`${ms.url}/upstream/alpha/`);
  await page.locator("#model", { hasText: "model: alpha, slots: 1" }).waitFor(SEE);
  await page.locator("#reply", { hasText: /^reply \(4 tokens\): +\S/ }).waitFor(SEE);
  expect(failed).toEqual([]);
  expect(browser.errors).toEqual([]);
});

test("the same page under /upstream/beta/ swaps to beta: each page talks to its own model", async () => {
  const page = await browser.page(`${ms.url}/upstream/beta/`);
  await page.locator("#model", { hasText: "model: beta, slots: 1" }).waitFor(SEE);
  await page.locator("#reply", { hasText: /^reply \(4 tokens\): +\S/ }).waitFor(SEE);
  expect(ms.pids("alpha")).toEqual([]);
  expect(failed).toEqual([]);
  expect(browser.errors).toEqual([]);
});
