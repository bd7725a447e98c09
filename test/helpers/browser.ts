/**
 * A real browser for UI tests: Debian's `chromium` driven by playwright-core,
 * headless, with a fresh profile per launch, and proof at close that none of
 * its processes is left.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser();
 * const page = await browser.page(`${url}/ui/`);
 * await browser.close();
 * ```
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { findPids, waitGone } from "./processes.ts";

/** Debian's chromium (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export interface TestBrowser {
  readonly context: BrowserContext;
  /** A new tab at `url`; console errors (CSP violations included) are collected in `errors`. */
  page(url: string): Promise<Page>;
  /** Console errors and page errors of every tab so far. */
  readonly errors: string[];
  /** Closes the browser and waits until every process of its profile is gone. */
  close(): Promise<void>;
}

/** Launches chromium with a fresh profile directory. */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Cannot run browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  const profile = mkdtempSync(join(tmpdir(), "modelswap-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  return {
    context,
    errors,
    async page(url) {
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close();
      const left = findPids(profile);
      await Promise.all(left.map((pid) => waitGone(pid)));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
