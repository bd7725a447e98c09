/**
 * The HTTP calls the pages make, and small formatting helpers. Every call
 * goes to this same server (the CSP allows nothing else).
 */
import { useEffect, useState } from "hono/jsx/dom";
import { live, type LiveState } from "./live.ts";

/** The live state, re-rendering the component on every change. */
export function useLive(): LiveState {
  const [s, set] = useState(live.state);
  useEffect(() => live.subscribe(set), []);
  return s;
}

/** The current hash route, e.g. "#/activity" → ["activity"]. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [r, set] = useState(read());
  useEffect(() => {
    const on = () => set(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return r;
}

/** POSTs and throws the server's error message on failure. */
export async function post(path: string): Promise<void> {
  const res = await fetch(path, { method: "POST" });
  if (!res.ok) throw new Error(await errorText(res));
}

/** The message of an OpenAI-style error body, or the status. */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string };
    if (typeof body.error === "string") return body.error;
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return text.trim() || `HTTP ${res.status}`;
}

/** The complete lines of a text body as they arrive, one batch per read (a piece with no newline yet waits for the next). */
export async function* lineBatches(body: NonNullable<Response["body"]>): AsyncGenerator<string[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const lines = (rest + value).split("\n");
    rest = lines.pop() ?? "";
    if (lines.length > 0) yield lines;
  }
}

/** A model id as a path (ids may contain `/`: each segment is encoded, the slashes kept). */
export const idPath = (id: string) => id.split("/").map(encodeURIComponent).join("/");
export const loadModel = (id: string) => post(`/api/models/load/${idPath(id)}`);
export const unloadModel = (id: string) => post(`/api/models/unload/${idPath(id)}`);
export const unloadAll = () => post("/api/models/unload");

/** "1h 2m", "3m 4s", "5s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${s}s`;
}

/** A number with one decimal, or "–" when not reported (< 0). */
export function rate(n: number): string {
  return n < 0 ? "–" : n.toFixed(1);
}

/** A count, or "–" when not reported (< 0). */
export function count(n: number): string {
  return n < 0 ? "–" : String(n);
}

/** Re-renders every `ms` (for uptimes and countdowns). */
export function useTick(ms: number): number {
  const [now, set] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => set(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
