/**
 * An incremental HTTP/1.1 response parser (RFC 9112): fed the bytes of one
 * connection as they arrive, it reports the head, the body's bytes and the
 * end of each response, and whether the connection can carry another
 * request. Pure: no I/O, no time.
 */

/** What the parser reports, in order: `head` once, `data` zero or more times, then `end` once (or `fail`). */
export interface ResponseSink {
  /** `connectionFields`: a field of `CONNECTION_FIELDS` came with the answer (a proxy must not pass those on). */
  head(status: number, statusText: string, headers: Headers, connectionFields: boolean): void;
  data(bytes: Uint8Array): void;
  /** The response ended; `reusable`: the connection may carry another request. */
  end(reusable: boolean): void;
}

/** A malformed or oversized response; the connection must be dropped. */
export class ResponseParseError extends Error {}

/**
 * The fields that describe one connection, not the message (RFC 9110 §7.6.1,
 * hop-by-hop): a proxy drops them, with any field that `Connection` names.
 */
export const CONNECTION_FIELDS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Largest response head accepted (status line and headers). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;
const decoder = new TextDecoder("latin1");

type State =
  | { kind: "head" }
  | { kind: "length"; left: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-crlf" }
  | { kind: "trailers" }
  | { kind: "until-close" }
  | { kind: "done" };

/**
 * Parses the response to one request. `feed` takes each received chunk;
 * bytes past the end of the response are an error (a server must not send
 * a second answer unasked). `eof` reports the peer closed.
 *
 * @example
 * ```ts
 * const p = new ResponseParser("GET", sink);
 * p.feed(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n")); // sink.head(204, …); sink.end(true)
 * ```
 */
export class ResponseParser {
  readonly #sink: ResponseSink;
  readonly #noBodyMethod: boolean;
  #state: State = { kind: "head" };
  /** Bytes of a line or head not complete yet. */
  #pending: Uint8Array | null = null;
  #keepAlive = true;

  constructor(method: string, sink: ResponseSink) {
    this.#sink = sink;
    this.#noBodyMethod = method.toUpperCase() === "HEAD";
  }

  /** Whether the head has been read (a reset before it may be a stale keep-alive socket). */
  get started(): boolean {
    return this.#state.kind !== "head";
  }

  get done(): boolean {
    return this.#state.kind === "done";
  }

  feed(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#pending !== null) {
      buf = concat(this.#pending, chunk);
      this.#pending = null;
    }
    let i = 0;
    while (i < buf.length) {
      const s = this.#state;
      switch (s.kind) {
        case "head": {
          const end = indexOfHeadEnd(buf, i);
          if (end < 0) {
            if (buf.length - i > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
            this.#pending = buf.slice(i);
            return;
          }
          this.#onHead(decoder.decode(buf.subarray(i, end)));
          i = end + 4;
          break;
        }
        case "length": {
          const n = Math.min(s.left, buf.length - i);
          this.#sink.data(buf.subarray(i, i + n));
          i += n;
          s.left -= n;
          if (s.left === 0) this.#finish();
          break;
        }
        case "until-close":
          this.#sink.data(i === 0 ? buf : buf.subarray(i));
          return;
        case "chunk-size": {
          const eol = indexOfCrlf(buf, i);
          if (eol < 0) return this.#keepLine(buf, i);
          const line = decoder.decode(buf.subarray(i, eol));
          const size = parseChunkSize(line);
          i = eol + 2;
          this.#state = size === 0 ? { kind: "trailers" } : { kind: "chunk-data", left: size };
          break;
        }
        case "chunk-data": {
          const n = Math.min(s.left, buf.length - i);
          this.#sink.data(buf.subarray(i, i + n));
          i += n;
          s.left -= n;
          if (s.left === 0) this.#state = { kind: "chunk-crlf" };
          break;
        }
        case "chunk-crlf": {
          if (buf.length - i < 2) return this.#keepLine(buf, i);
          if (buf[i] !== CR || buf[i + 1] !== LF) throw new ResponseParseError("chunk data not followed by CRLF");
          i += 2;
          this.#state = { kind: "chunk-size" };
          break;
        }
        case "trailers": {
          const eol = indexOfCrlf(buf, i);
          if (eol < 0) return this.#keepLine(buf, i);
          // Trailer fields are read past and dropped; an empty line ends the message.
          const empty = eol === i;
          i = eol + 2;
          if (empty) this.#finish();
          break;
        }
        case "done":
          throw new ResponseParseError("bytes after the end of the response");
      }
    }
  }

  /** The peer closed the connection: ends a close-delimited body, or fails an unfinished response. */
  eof(): void {
    if (this.#state.kind === "until-close") {
      this.#state = { kind: "done" };
      this.#sink.end(false);
      return;
    }
    if (this.#state.kind !== "done") throw new ResponseParseError(this.started ? "connection closed before the response ended" : "connection closed before any response");
  }

  #keepLine(buf: Uint8Array, i: number): void {
    if (buf.length - i > MAX_HEAD_BYTES) throw new ResponseParseError("chunk line too long");
    this.#pending = buf.slice(i);
  }

  #onHead(text: string): void {
    const lines = text.split("\r\n");
    const statusLine = lines[0] ?? "";
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (m === null) throw new ResponseParseError(`bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const http10 = m[1] === "0";
    const status = Number(m[2]);
    const headers = new Headers();
    let connectionFields = false;
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ResponseParseError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim();
      connectionFields ||= CONNECTION_FIELDS.has(name.toLowerCase());
      headers.append(name, line.slice(colon + 1).trim());
    }
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (status >= 100 && status < 200) return;
    const connection = (headers.get("connection") ?? "").toLowerCase();
    this.#keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
    this.#sink.head(status, m[3] ?? "", headers, connectionFields);
    if (this.#noBodyMethod || status === 204 || status === 304) return this.#finish();
    const te = headers.get("transfer-encoding");
    if (te !== null) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) {
        // Another coding last: the body runs to the close (RFC 9112 §6.3).
        this.#keepAlive = false;
        this.#state = { kind: "until-close" };
        return;
      }
      this.#state = { kind: "chunk-size" };
      return;
    }
    const cl = headers.get("content-length");
    if (cl !== null) {
      const n = Number(cl.split(",")[0]!.trim());
      if (!Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(cl.split(",")[0]!.trim())) throw new ResponseParseError(`bad content-length ${JSON.stringify(cl)}`);
      if (n === 0) return this.#finish();
      this.#state = { kind: "length", left: n };
      return;
    }
    this.#keepAlive = false;
    this.#state = { kind: "until-close" };
  }

  #finish(): void {
    this.#state = { kind: "done" };
    this.#sink.end(this.#keepAlive);
  }
}

function parseChunkSize(line: string): number {
  const semi = line.indexOf(";");
  const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ResponseParseError(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
  return parseInt(hex, 16);
}

function indexOfHeadEnd(b: Uint8Array, from: number): number {
  for (let k = b.indexOf(CR, from); k >= 0 && k + 3 < b.length; k = b.indexOf(CR, k + 1)) {
    if (b[k + 1] === LF && b[k + 2] === CR && b[k + 3] === LF) return k;
  }
  return -1;
}

function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let k = b.indexOf(CR, from); k >= 0 && k + 1 < b.length; k = b.indexOf(CR, k + 1)) {
    if (b[k + 1] === LF) return k;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
