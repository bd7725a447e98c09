/**
 * Finds the `model` field of a multipart upload without holding the whole
 * body: it reads only up to the end of that field, then the rest streams to
 * the upstream as it arrives (with the field rewritten in place if needed).
 */
import { tooLarge } from "./body.ts";
import { HttpError } from "../errors.ts";

/** The multipart boundary of a content-type, or null. */
export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/** The part of a stream reader used here. */
export interface ChunkReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/** The head of an upload: everything up to the end of the `model` field, and the unread rest. */
export interface MultipartHead {
  prefix: Buffer;
  model: string;
  /** Byte range of the model value inside `prefix`. */
  valueStart: number;
  valueEnd: number;
  rest: ChunkReader;
}

const CRLF2 = Buffer.from("\r\n\r\n");

/** Locates the model field in `buf`; "more" when more bytes are needed, null when the body has no model field. */
function scan(buf: Buffer, boundary: string, complete: boolean): { start: number; end: number } | "more" | null {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let at = buf.indexOf(delim);
  if (at < 0) return complete ? null : "more";
  for (;;) {
    const lineEnd = at + delim.length;
    if (buf.length < lineEnd + 2) return complete ? null : "more";
    if (buf[lineEnd] === 0x2d && buf[lineEnd + 1] === 0x2d) return null; // closing delimiter
    const headersEnd = buf.indexOf(CRLF2, lineEnd);
    if (headersEnd < 0) return complete ? null : "more";
    const headers = buf.subarray(lineEnd, headersEnd).toString("latin1");
    const bodyStart = headersEnd + CRLF2.length;
    const bodyEnd = buf.indexOf(next, bodyStart);
    const isModel = /content-disposition:[^\r\n]*;\s*name="model"(?:;|\s|$)/i.test(headers) && !/filename=/i.test(headers);
    if (bodyEnd < 0) return complete ? null : "more";
    if (isModel) return { start: bodyStart, end: bodyEnd };
    at = bodyEnd + 2;
  }
}

/** Reads until the model field is complete; 400 without one, 413 past `limit` bytes. */
export async function readMultipartHead(body: ReadableStream<Uint8Array>, boundary: string, limit: number): Promise<MultipartHead> {
  const reader: ChunkReader = body.getReader() as ChunkReader;
  let buf = Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (value) {
      buf = Buffer.concat([buf, value]);
      if (buf.length > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
    }
    const found = scan(buf, boundary, done);
    if (found === null || (done && found === "more")) {
      throw new HttpError("missing_model", "Cannot route request: missing or invalid 'model' parameter in form data");
    }
    if (found !== "more") {
      const model = buf.subarray(found.start, found.end).toString("utf8");
      if (model === "") throw new HttpError("missing_model", "Cannot route request: missing or invalid 'model' parameter in form data");
      return { prefix: buf, model, valueStart: found.start, valueEnd: found.end, rest: reader };
    }
  }
}

/**
 * The body to send upstream: the head (model value replaced by `sendAs`) then
 * the rest as it arrives, failing once the total passes `limit`.
 */
export function multipartBody(head: MultipartHead, sendAs: string, limit: number): { body: ReadableStream<Uint8Array>; delta: number } {
  const value = Buffer.from(sendAs, "utf8");
  const prefix =
    sendAs === head.model ? head.prefix : Buffer.concat([head.prefix.subarray(0, head.valueStart), value, head.prefix.subarray(head.valueEnd)]);
  let total = head.prefix.length;
  let first = true;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (first) {
          first = false;
          c.enqueue(new Uint8Array(prefix));
          return;
        }
        const { done, value: chunk } = await head.rest.read();
        if (done) {
          c.close();
          return;
        }
        total += chunk.byteLength;
        if (total > limit) {
          c.error(tooLarge(limit));
          await head.rest.cancel().catch(() => {});
          return;
        }
        c.enqueue(chunk);
      },
      cancel(reason) {
        return head.rest.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, delta: prefix.length - head.prefix.length };
}
