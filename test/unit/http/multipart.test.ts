import { afterAll, describe, expect, test } from "bun:test";
import { boundaryOf, readMultipartHead } from "../../../src/http/edge/multipart.ts";
import { config } from "./config-fixture.ts";
import { listen, makeDeps, servedBy, startUpstream } from "./helpers.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

const B = "XyZ123";
const enc = new TextEncoder();
const field = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const file = (name: string, bytes: number) =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${"z".repeat(bytes)}\r\n`;
const end = `--${B}--\r\n`;

/** A body delivered in chunks of `size` bytes. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = enc.encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

describe("readMultipartHead", () => {
  test.each([
    ['multipart/form-data; boundary="a b"', "a b"],
    ["multipart/form-data; boundary=XyZ123", "XyZ123"],
    ["application/json", null],
  ])("boundaryOf(%p) is %p", (ct, b) => {
    expect(boundaryOf(ct)).toBe(b);
  });

  test("stops reading right after the model field and leaves the rest unread", async () => {
    const text = field("model", "whisper") + file("file", 10_000) + end;
    const head = await readMultipartHead(chunked(text, 64), B, 1 << 20);
    expect(head.model).toBe("whisper");
    expect(head.prefix.length).toBeLessThan(200);
  });

  test("finds a model field that comes after the file", async () => {
    const head = await readMultipartHead(chunked(file("file", 300) + field("model", "m") + end, 50), B, 1 << 20);
    expect(head.model).toBe("m");
  });

  test.each([
    ["no model field", 400, field("prompt", "x") + end],
    ["a model that is a file", 400, file("model", 3) + end],
    ["an empty model", 400, field("model", "") + end],
    ["a file before the model beyond the limit", 413, file("file", 5000) + field("model", "m") + end],
  ])("%s → %d", async (_name, status, text) => {
    await expect(readMultipartHead(chunked(text, 100), B, 1024)).rejects.toMatchObject({ status });
  });
});

describe("multipart through a listening server", () => {
  function start(maxUploadBytes = 1 << 20) {
    const deps = makeDeps(servedBy(config({ whisper: { useModelName: "large-v3" } }, { maxUploadBytes }), upstream.url));
    return { deps, url: listen(deps).url };
  }

  test("the rewritten upload arrives whole, with a Content-Length that matches", async () => {
    const { url } = start();
    const form = new FormData();
    form.set("model", "whisper");
    form.set("file", new Blob([new Uint8Array(50_000).fill(7)]), "a.wav");
    form.set("language", "en");
    const res = await fetch(`${url}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    const r = upstream.received.at(-1);
    if (!r) throw new Error("nothing received");
    expect(Number(r.headers.get("content-length"))).toBe(r.body.length);
    const got = await new Response(r.body, { headers: { "content-type": r.headers.get("content-type") ?? "" } }).formData();
    expect(got.get("model")).toBe("large-v3");
    expect(got.get("language")).toBe("en");
    expect((await (got.get("file") as File).arrayBuffer()).byteLength).toBe(50_000);
  });

  test("a chunked upload that grows past maxUploadBytes after the model field is 413", async () => {
    const { deps, url } = start(1024);
    const body = chunked(field("model", "whisper") + file("file", 8000) + end, 256);
    const res = await fetch(`${url}/v1/audio/transcriptions`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${B}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await deps.scheduler.released()).toEqual(["whisper"]);
  });
});
