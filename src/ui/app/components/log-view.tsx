/** A live log: lines, a text filter, and scroll kept at the bottom unless the reader scrolled up. */
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { lineBatches } from "../api.ts";

export function LogView({ lines, testid }: { lines: string[]; testid: string }) {
  const [filter, setFilter] = useState("");
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const shown = filter === "" ? lines : lines.filter((l) => l.toLowerCase().includes(filter.toLowerCase()));
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  return (
    <div class="logview">
      <input class="filter" placeholder="filter lines" value={filter} onInput={(e: Event) => setFilter((e.target as HTMLInputElement).value)} />
      <pre
        ref={box}
        data-testid={testid}
        onScroll={(e: Event) => {
          const el = e.target as HTMLElement;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        }}
      >
        {shown.join("\n")}
      </pre>
    </div>
  );
}

/** Lines of a text stream (`/logs/stream/...`), history first, then live, until unmounted. */
export function useTextStream(url: string): string[] {
  const [lines, setLines] = useState<string[]>([]);
  useEffect(() => {
    const ctrl = new AbortController();
    setLines([]);
    void (async () => {
      const res = await fetch(url, { signal: ctrl.signal });
      if (!res.ok || res.body === null) {
        setLines([`cannot read ${url}: HTTP ${res.status}`]);
        return;
      }
      for await (const lines of lineBatches(res.body)) setLines((old) => old.concat(lines).slice(-2000));
    })().catch(() => undefined);
    return () => ctrl.abort();
  }, [url]);
  return lines;
}
