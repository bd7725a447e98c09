/** The `/ui/` page shell and its bundled assets (from source the first request runs the bundler: a child bun), served under a strict CSP. */
import { describe, expect, test } from "bun:test";
import { config } from "../unit/http/config-fixture.ts";
import { makeDeps, serve } from "../unit/http/helpers.ts";

function setup(apiKeys: string[] = []) {
  const deps = makeDeps(config({ llama: {}, "org/my model": {} }, { apiKeys }));
  return { app: { request: serve(deps) }, scheduler: deps.scheduler };
}

const basic = (pass: string) => ({ Authorization: `Basic ${btoa(`user:${pass}`)}` });

describe("the UI's addresses", () => {
  test("GET / leads to /ui (302, as llama-swap); GET /ui to /ui/ for good (301)", async () => {
    const { app } = setup();
    const root = await app.request("/");
    expect(root.status).toBe(302);
    expect(root.headers.get("Location")).toBe("/ui");
    const ui = await app.request("/ui");
    expect(ui.status).toBe(301);
    expect(ui.headers.get("Location")).toBe("/ui/");
  });
});

describe("GET /ui/", () => {
  test("is a no-cache HTML shell allowed to run only this server's script and style", async () => {
    const res = await setup().app.request("/ui/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("no-cache");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toContain("unsafe");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/ui/app.css">');
    expect(html).not.toMatch(/<script>|<style>|style="|\son\w+="/);
    for (const external of ['src="http', 'href="http', 'src="//', 'href="//']) expect(html).not.toContain(external);
  });

  test("serves the bundled script and stylesheet, which load nothing from elsewhere", async () => {
    const { app } = setup();
    const js = await app.request("/ui/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    const code = await js.text();
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).toContain("/api/events");
    expect(code).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/i);
    const css = await app.request("/ui/app.css");
    expect(css.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    const style = await css.text();
    expect(style).toContain(".uplot");
    expect(style).not.toMatch(/@import|url\(\s*['"]?https?:/);
  });

  test("the page and its assets need a key when keys are configured", async () => {
    const { app } = setup(["secret"]);
    expect((await app.request("/ui/")).status).toBe(401);
    expect((await app.request("/ui/app.js")).status).toBe(401);
    expect((await app.request("/ui/", { headers: basic("secret") })).status).toBe(200);
  });
});
