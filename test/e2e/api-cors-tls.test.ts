/**
 * `cors.allowOrigins` (modelswap's key) restricting which web pages may call
 * modelswap, and HTTPS with `--tls-cert-file` / `--tls-key-file` (a
 * self-signed pair made with openssl at test time).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers/configs.ts";
import { type ApiServer, echoOf, postJson, startApiServer } from "./api-harness.ts";
import { cleanupProcesses, spawnModelswap, spawnProcess } from "../helpers/processes.ts";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";
let s: ApiServer;
beforeAll(async () => {
  s = await startApiServer((fake) => `cors:\n  allowOrigins: ["${APP}"]\nmodels:\n  m:\n    cmd: ${fake()}\n`);
});
afterAll(() => s.stop());

const chatBody = { model: "m", messages: [{ role: "user", content: "hi" }] };
const preflight = (origin: string) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
  });

describe("cors.allowOrigins", () => {
  test("a preflight from a listed origin: 204, allowed for exactly that origin", async () => {
    const res = await preflight(APP);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, authorization");
  });

  test("a preflight from another origin: 403 origin_not_allowed, no CORS headers", async () => {
    const res = await preflight(EVIL);
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "origin_not_allowed", message: `Cannot serve a page from origin '${EVIL}': it is not in cors.allowOrigins` });
  });

  test("a request from another origin (a 'simple' POST needs no preflight) is refused before any model starts", async () => {
    await fetch(`${s.url}/unload`);
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers: { origin: EVIL, "content-type": "text/plain" }, body: JSON.stringify(chatBody) });
    expect(res.status).toBe(403);
    expect(s.modelPids()).toEqual([]);
  });

  test("a request from the listed origin is served, with its origin allowed on the response", async () => {
    const res = await postJson(s.url, "/v1/chat/completions", chatBody, { origin: APP });
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("vary")).toContain("Origin");
    await echoOf(res);
  });

  test("requests without Origin (curl, SDKs) and from modelswap's own page are served", async () => {
    await echoOf(await postJson(s.url, "/v1/chat/completions", chatBody));
    const own = await fetch(`${s.url}/v1/models`, { headers: { origin: s.url } });
    expect(own.status).toBe(200);
  });

  test("/comfyui/ without a comfyui_auto model: 404 naming the model to add", async () => {
    const res = await fetch(`${s.url}/comfyui/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "Cannot serve /comfyui/: the model 'comfyui_auto' is not configured (add it to serve ComfyUI here)",
    );
  });
});

describe("HTTPS with --tls-cert-file and --tls-key-file", () => {
  const tmp = tempDir("modelswap-tls-");
  afterAll(async () => {
    await cleanupProcesses();
    tmp.remove();
  });

  test("serves the API over TLS with a self-signed certificate", async () => {
    if (Bun.which("openssl") === null) throw new Error("Cannot make a test certificate: openssl is not installed (apt-get install openssl)");
    const cert = join(tmp.path, "cert.pem");
    const key = join(tmp.path, "key.pem");
    const gen = spawnProcess(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
    expect(await gen.waitForExit(60_000)).toBe(0);
    const config = tmp.write("tls.yaml", "models:\n  m:\n    cmd: ${MODELSWAP} fake-upstream --port ${PORT}\n");
    const p = spawnModelswap(["--config", config, "--listen", "127.0.0.1:0", "--tls-cert-file", cert, "--tls-key-file", key, "--state-dir", join(tmp.path, "state")]);
    const url = (await p.waitForOutput(/listening on (https:\/\/\S+)/))[1]!;
    const ca = await Bun.file(cert).text();
    const res = await fetch(`${url}/v1/models`, { tls: { ca } } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((d) => d.id)).toEqual(["m"]);
    await expect(fetch(`${url.replace("https:", "http:")}/health`)).rejects.toThrow();
    p.proc.kill("SIGTERM");
    expect(await p.waitForExit()).toBe(0);
  }, 90_000);

  test("a missing key file fails the start with its name", async () => {
    const config = tmp.write("tls-missing.yaml", "models:\n  m:\n    cmd: ${MODELSWAP} fake-upstream --port ${PORT}\n");
    const missing = join(tmp.path, "nope.pem");
    const p = spawnModelswap(["--config", config, "--listen", "127.0.0.1:0", "--tls-cert-file", missing, "--tls-key-file", missing, "--state-dir", join(tmp.path, "state2")]);
    expect(await p.waitForExit()).toBe(1);
    expect(p.stderr()).toContain(`modelswap: cannot listen on 127.0.0.1:0: Cannot read the TLS certificate ${missing}: no such file`);
  });
});
