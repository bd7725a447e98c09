/**
 * Client-side measurements other than wrk's: large bodies, streamed chunk
 * timing, and many concurrent open streams (over raw sockets, so the
 * benchmark's own fetch limit of 256 requests does not get in the way).
 */
import { connect, type Socket } from "node:net";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
export { median };

function chatBody(model: string, stream: boolean, content = "Say hi"): string {
  return JSON.stringify({ model, stream, messages: [{ role: "user", content }] });
}

/** One non-streaming chat completion; resolves to the response text, throws on a non-200. */
export async function chat(url: string, model: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: chatBody(model, false),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`Cannot complete chat at ${url}: status ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

export interface BodyResult {
  /** Request megabytes (10^6 bytes) per second, request sent to response fully read. */
  mbPerS: number;
  requestBytes: number;
  responseBytes: number;
}

let bigBody: { model: string; text: string } | undefined;

/** POSTs a `mb` MB chat-completion body `reps` times (after one untimed warm-up). */
export async function bodyThroughput(url: string, model: string, mb: number, reps: number): Promise<BodyResult> {
  if (bigBody?.model !== model) bigBody = { model, text: chatBody(model, false, "x".repeat(mb * 1_000_000)) };
  const body = bigBody.text;
  const once = async (): Promise<number> => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const buf = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`Cannot post a ${mb} MB body to ${url}: status ${res.status}: ${new TextDecoder().decode(buf.slice(0, 300))}`);
    return buf.byteLength;
  };
  await once();
  let responseBytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) responseBytes = await once();
  const secs = (performance.now() - t0) / 1000;
  return { mbPerS: (body.length * reps) / 1e6 / secs, requestBytes: body.length, responseBytes };
}

export interface StreamResult {
  /** Request sent → first body chunk, median over samples. */
  ttfbMs: number;
  /** Mean gap between body chunks of one stream, median over samples. */
  gapMs: number;
  /** Request sent → end of stream, median over samples. */
  totalMs: number;
  /** Body chunks (reads) per stream, median over samples. */
  chunks: number;
}

/** Streams `samples` chat completions one after another and times every chunk's arrival. */
export async function streamTimings(url: string, model: string, samples: number): Promise<StreamResult> {
  const ttfb: number[] = [];
  const gap: number[] = [];
  const total: number[] = [];
  const chunks: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: chatBody(model, true),
    });
    if (res.status !== 200 || !res.body) throw new Error(`Cannot stream from ${url}: status ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const times: number[] = [];
    for await (const _chunk of res.body) times.push(performance.now());
    if (times.length === 0) throw new Error(`Cannot time a stream from ${url}: it had no body`);
    ttfb.push(times[0]! - t0);
    total.push(times.at(-1)! - t0);
    chunks.push(times.length);
    if (times.length > 1) gap.push((times.at(-1)! - times[0]!) / (times.length - 1));
  }
  return { ttfbMs: median(ttfb), gapMs: median(gap), totalMs: median(total), chunks: median(chunks) };
}

/** Streams held open by `openStreams`; `close()` aborts them all. */
export interface OpenStreams {
  requested: number;
  /** Streams that received at least one body byte before the deadline. */
  opened: number;
  /** Status codes seen, with counts. */
  statuses: Record<string, number>;
  close(): void;
}

/**
 * Opens `n` concurrent streamed chat completions over raw HTTP/1.1 sockets
 * and resolves when all got their first body bytes, or at `timeoutMs`.
 */
export function openStreams(url: string, model: string, n: number, timeoutMs: number): Promise<OpenStreams> {
  const { hostname, port } = new URL(url);
  const body = chatBody(model, true);
  const request =
    `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const sockets: Socket[] = [];
  const statuses: Record<string, number> = {};
  let opened = 0;
  let answered = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ requested: n, opened, statuses, close: () => sockets.forEach((s) => s.destroy()) });
    };
    const timer = setTimeout(finish, timeoutMs);
    for (let i = 0; i < n; i++) {
      let head = "";
      let first = false;
      const s = connect({ host: hostname, port: Number(port) }, () => s.write(request));
      s.on("error", () => undefined);
      s.on("data", (data: Buffer) => {
        if (first) return;
        head += data.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = /^HTTP\/1\.\d (\d+)/.exec(head)?.[1] ?? "?";
        if (head.length > end + 4) {
          first = true;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === "200") opened++;
          if (++answered === n) finish();
        }
      });
      sockets.push(s);
    }
  });
}
