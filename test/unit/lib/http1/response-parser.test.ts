import { describe, expect, test } from "bun:test";
import { ResponseParser, ResponseParseError, type ResponseSink } from "../../../../src/lib/http1/response-parser.ts";

/** Feeds `parts` one by one and records what the parser reported. */
function parse(method: string, ...parts: string[]) {
  const out = { status: 0, text: "", headers: new Headers(), body: "", ends: [] as boolean[] };
  const sink: ResponseSink = {
    head(status, text, headers) {
      out.status = status;
      out.text = text;
      out.headers = headers;
    },
    data(bytes) {
      out.body += new TextDecoder().decode(bytes);
    },
    end(reusable) {
      out.ends.push(reusable);
    },
  };
  const p = new ResponseParser(method, sink);
  for (const part of parts) p.feed(new TextEncoder().encode(part));
  return { out, p };
}

/** Every way of cutting `text` in two. */
function everySplit(text: string): string[][] {
  return Array.from({ length: text.length - 1 }, (_, i) => [text.slice(0, i + 1), text.slice(i + 1)]);
}

describe("ResponseParser", () => {
  test("a Content-Length body, cut anywhere, arrives whole and the connection stays reusable", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}";
    for (const parts of everySplit(text)) {
      const { out } = parse("POST", ...parts);
      expect(out).toMatchObject({ status: 200, text: "OK", body: '{"a":"bcd"}', ends: [true] });
      expect(out.headers.get("content-type")).toBe("application/json");
    }
  });

  test("a chunked body with extensions and trailers, cut anywhere, is decoded", () => {
    const text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (const parts of everySplit(text)) {
      const { out } = parse("GET", ...parts);
      expect(out).toMatchObject({ body: "hello, world", ends: [true] });
    }
  });

  test("no length and no chunking: the body runs to the close, and the connection is not reused", () => {
    const { out, p } = parse("GET", "HTTP/1.1 200 OK\r\n\r\npart one, ", "part two");
    expect(out.ends).toEqual([]);
    p.eof();
    expect(out).toMatchObject({ body: "part one, part two", ends: [false] });
  });

  test("Connection: close and HTTP/1.0 without keep-alive end reusable: false", () => {
    expect(parse("GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").out.ends).toEqual([false]);
    expect(parse("GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").out.ends).toEqual([false]);
    expect(parse("GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").out.ends).toEqual([true]);
  });

  test("HEAD, 204 and 304 have no body whatever Content-Length says", () => {
    expect(parse("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n").out).toMatchObject({ body: "", ends: [true] });
    expect(parse("GET", "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n").out).toMatchObject({ status: 204, ends: [true] });
  });

  test("1xx answers before the real one are skipped", () => {
    const { out } = parse("POST", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    expect(out).toMatchObject({ status: 201, body: "ok", ends: [true] });
    expect(out.headers.get("link")).toBeNull();
  });

  test("a close before the answer ended is an error that says whether any answer came", () => {
    const none = parse("GET");
    expect(() => none.p.eof()).toThrow("connection closed before any response");
    const half = parse("GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    expect(() => half.p.eof()).toThrow("connection closed before the response ended");
  });

  test.each([
    ["a bad status line", "HTTP/2 200 OK\r\n\r\n", "bad status line"],
    ["a header without a colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "bad header line"],
    ["a bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad content-length"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"],
    ["chunk data without its CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY", "not followed by CRLF"],
    ["bytes after the end", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naEXTRA", "bytes after the end"],
  ])("%s is a ResponseParseError", (_, text, message) => {
    let error: unknown;
    try {
      parse("GET", text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResponseParseError);
    expect((error as Error).message).toContain(message);
  });

  test("a head that never ends is refused past 64 KiB", () => {
    expect(() => parse("GET", `HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}`)).toThrow("larger than");
  });
});
