/**
 * One real modelswap (`bun src/main.ts serve`) per API e2e test file, with
 * fake-upstream models tagged by an environment marker so afterAll can prove
 * that every model process went away with it.
 *
 * @example
 * ```ts
 * let s: ApiServer;
 * beforeAll(async () => (s = await startApiServer((fake) => `models:\n  a:\n    cmd: ${fake()}\n`)));
 * afterAll(() => s.stop());
 * ```
 */
import { expect } from "bun:test";
import { poll } from "../../src/lib/async.ts";
import { tempDir } from "../helpers/configs.ts";
import { cleanupProcesses, findPids, freePortRange, type Spawned, spawnModelswap, waitForUrl } from "../helpers/processes.ts";

/** A running modelswap under test. */
export interface ApiServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  proc: Spawned;
  /** Live model processes started by this server. */
  modelPids(): number[];
  /** Stops modelswap, then asserts that no model process is left. */
  stop(): Promise<void>;
}

/** Builds a fake-upstream `cmd`; `args` defaults to three tokens with no pacing. */
export type FakeCmd = (args?: string) => string;

let serial = 0;

/** Live model processes whose environment carries `marker`. */
const pidsWithMarker = (marker: string): number[] => findPids(`MODELSWAP_E2E=${marker} `, "environ");

/**
 * Writes the config `body(fake)` (after `startPort` and `healthCheckTimeout`),
 * starts modelswap on a free port and waits for `/health` (why: every API
 * test file needs exactly this, and the same cleanup proof).
 */
export async function startApiServer(body: (fake: FakeCmd) => string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ApiServer> {
  const marker = `${process.pid}-${++serial}-${Date.now()}`;
  const fake: FakeCmd = (args = "--tokens 3 --token-interval 0") =>
    `env MODELSWAP_E2E=${marker} \${MODELSWAP} fake-upstream --port \${PORT} ${args}`;
  const tmp = tempDir("modelswap-api-");
  // Models get ports from startPort up, below the kernel's ephemeral range, so no port-0 bind (modelswap's own, other tests') can take one.
  const file = tmp.write("config.yaml", `startPort: ${freePortRange(16)}\nhealthCheckTimeout: 30\n${body(fake)}`);
  const proc = spawnModelswap(["serve", "--config", file, "--listen", "127.0.0.1:0", "--state-dir", `${tmp.path}/state`, ...extraArgs], Object.keys(env).length > 0 ? { env: { ...process.env, ...env } } : {});
  let url = "";
  try {
    url = (await proc.waitForOutput(/listening on (http:\/\/\S+)/, 20_000))[1]!.replace(/\/$/, "");
    await waitForUrl(`${url}/health`, { timeoutMs: 20_000 });
  } catch (error) {
    await cleanupProcesses();
    tmp.remove();
    throw new Error(`${(error as Error).message}\n${proc.stdout()}\n${proc.stderr()}`);
  }
  return {
    url,
    proc,
    modelPids: () => pidsWithMarker(marker),
    async stop() {
      await proc.stop(15_000);
      await poll(() => (pidsWithMarker(marker).length === 0 ? true : undefined), 20, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
      const left = pidsWithMarker(marker);
      for (const pid of left) process.kill(pid, "SIGKILL");
      await cleanupProcesses();
      tmp.remove();
      expect(left).toEqual([]);
    },
  };
}

/** POSTs `body` as JSON to `url + path`. */
export function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/**
 * Makes a fake upstream started with `--exit-after-requests 2` die now: this
 * is its second request, and it exits while answering it, cutting every
 * stream it has open. Why not let it crash on its own: when the connection
 * dies, the reader's body stream fails and drops the chunks it holds unread
 * (Bun's fetch, and modelswap's upstream client), so a proxy slow to read (a
 * loaded machine) lost the tokens a test wanted to see before the error. Read
 * them first, then call this.
 */
export async function crashFake(url: string, model: string, headers: Record<string, string> = {}): Promise<void> {
  // Its own answer is cut short too (a broken body, or a reset before any byte): either way it is over.
  await postJson(url, "/v1/chat/completions", { model, messages: [] }, headers).then((res) => res.text()).catch(() => "");
}

/** What the fake upstream says it received (the `echo` field of its JSON answers). */
export interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Record<string, unknown> & { fields?: Record<string, unknown> };
}

/** Reads a JSON answer of the fake upstream and returns its `echo`; fails with the body when the status is not `status`. */
export async function echoOf(res: Response, status = 200): Promise<Echo> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`Expected status ${status}, got ${res.status}: ${text}`);
  return (JSON.parse(text) as { echo: Echo }).echo;
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6));
}

/** A streaming body read as text in steps: up to a condition, then to its end. */
export interface TextReader {
  /** Reads until `done(textSoFar)` holds; fails with what was read if the stream ends first. */
  until(done: (text: string) => boolean): Promise<string>;
  /** Reads to the end and returns all the text read. */
  rest(): Promise<string>;
  cancel(reason?: unknown): Promise<void>;
}

/** A `TextReader` over `res`'s body. */
export function textReader(res: Response): TextReader {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    async until(done) {
      while (!done(text)) {
        const r = await reader.read();
        if (r.done) throw new Error(`Stream ended before the condition held: ${text}`);
        text += decoder.decode(r.value, { stream: true });
      }
      return text;
    },
    async rest() {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
      return text;
    },
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  };
}

/** Reads a streaming response until `done(textSoFar)` holds, then cancels it; fails after `timeoutMs` with what was read. */
export async function readUntil(res: Response, done: (text: string) => boolean, timeoutMs = 4000): Promise<string> {
  const reader = textReader(res);
  const timer = setTimeout(() => void reader.cancel(new Error("timed out")), timeoutMs);
  try {
    return await reader.until(done);
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}
