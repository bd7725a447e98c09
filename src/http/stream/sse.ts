/**
 * Server-sent events as text: the headers of an event stream and the framing
 * of one event. Imports nothing: every stream (events, loading state, errors
 * inside a proxied stream) formats with it.
 */

/** Response headers of modelswap's own event streams (`X-Accel-Buffering`: nginx must not buffer them). */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "X-Accel-Buffering": "no",
};

/** One server-sent event; `data` must not contain a bare newline (JSON never does). */
export function sseMessage(event: string, data: string, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

/** One unnamed SSE event (`data:` only), the framing of OpenAI's streamed chunks. */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}
