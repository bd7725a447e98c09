import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { UI_SCRIPT, UI_STYLE } from "../../../src/http/ui/page.ts";
import { config } from "./config-fixture.ts";
import { makeDeps, serve } from "./helpers.ts";

function setup(apiKeys: string[] = []) {
  const deps = makeDeps(config({ llama: {}, "org/my model": {} }, { apiKeys }));
  return { app: { request: serve(deps) }, scheduler: deps.scheduler };
}

const basic = (pass: string) => ({ Authorization: `Basic ${btoa(`user:${pass}`)}` });
const sha256 = (text: string) => createHash("sha256").update(text).digest("base64");

/** The one inline script's text. */
function scriptOf(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  expect(scripts).toHaveLength(1);
  return scripts[0]![1]!;
}

describe("GET /ui", () => {
  test("redirects to /ui/ for good (301)", async () => {
    const res = await setup().app.request("/ui");
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe("/ui/");
  });
});

describe("GET /ui/", () => {
  test("is a no-cache HTML page locked to its own inline script and style", async () => {
    const res = await setup().app.request("/ui/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("no-cache");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'sha256-${sha256(UI_SCRIPT)}'`);
    expect(csp).toContain(`style-src 'sha256-${sha256(UI_STYLE)}'`);
    expect(csp).toContain("connect-src 'self'");
  });

  test("hashes in the policy match the script and style exactly as served", async () => {
    const html = await (await setup().app.request("/ui/")).text();
    expect(scriptOf(html)).toBe(UI_SCRIPT);
    expect(html).toContain(`<style>${UI_STYLE}</style>`);
  });

  test("loads nothing from elsewhere", async () => {
    const html = await (await setup().app.request("/ui/")).text();
    for (const external of ['src="http', "src='http", 'href="http', "href='http", 'src="//', 'href="//', "url(", "@import"]) {
      expect(html).not.toContain(external);
    }
    expect(html).not.toMatch(/<(link|iframe|img|object|embed)\b/);
  });

  test("has every element its script looks up", async () => {
    const html = await (await setup().app.request("/ui/")).text();
    const ids = [...scriptOf(html).matchAll(/byId\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(ids).toEqual(expect.arrayContaining(["models-body", "inflight", "connection", "status", "log", "follow", "unload-all", "log-filter", "clear-log", "version"]));
    for (const id of ids) expect(html).toContain(`id="${id}"`);
  });

  test("its inline script parses", async () => {
    const script = scriptOf(await (await setup().app.request("/ui/")).text());
    expect(() => new Function(script)).not.toThrow();
  });

  test("puts server data in the DOM only as text", () => {
    expect(UI_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  test("reads events and posts unloads on this server only, with the browser's credentials", () => {
    expect(UI_SCRIPT).toContain('new EventSource("/api/events")');
    expect(UI_SCRIPT).toContain('"/api/models/unload"');
    expect(UI_SCRIPT).toContain('"/api/models/unload/" + m.id.split("/").map(encodeURIComponent).join("/")');
    expect(UI_SCRIPT.match(/fetch\(/g)).toHaveLength(2);
    expect(UI_SCRIPT.match(/credentials: "same-origin"/g)).toHaveLength(2);
  });

  test("follows the light or dark preference", () => {
    expect(UI_STYLE).toContain("color-scheme: light dark");
    expect(UI_STYLE).toContain("@media (prefers-color-scheme: dark)");
  });
});

describe("the page's unload address", () => {
  test("reaches the unload route for an id with a slash and a space", async () => {
    const { app, scheduler } = setup();
    await scheduler.ready("org/my model");
    const path = `/api/models/unload/${"org/my model".split("/").map(encodeURIComponent).join("/")}`;
    const res = await app.request(path, { method: "POST" });
    expect(res.status).toBe(200);
    expect(scheduler.calls).toEqual([["unload", "org/my model"]]);
    expect((await scheduler.status()).find((s) => s.model === "org/my model")?.state).toBe("stopped");
  });
});

describe("GET /logs from a browser", () => {
  test("lands on the page", async () => {
    const { app } = setup();
    const redirect = await app.request("/logs", { headers: { Accept: "text/html" } });
    expect(redirect.status).toBe(302);
    const page = await app.request(redirect.headers.get("Location") ?? "", { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>modelswap</title>");
  });
});

describe("with apiKeys set", () => {
  test.each([
    ["/ui/", {}, 401],
    ["/ui", {}, 401],
    ["/ui/", basic("sk-wrong"), 401],
    ["/ui/", basic("sk-one"), 200],
    ["/ui", basic("sk-one"), 301],
  ] as const)("%s with %j → %d", async (path, headers, status) => {
    const res = await setup(["sk-one"]).app.request(path, { headers });
    expect(res.status).toBe(status);
    if (status === 401) expect(res.headers.get("www-authenticate")).toBe('Basic realm="modelswap"');
  });
});
