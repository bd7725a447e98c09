/**
 * Keys modelswap accepts because llama-swap's files have them, but does not
 * act on, each with the reason. A file that sets one loads with a positioned
 * warning (at start and in `validate`), so "accepted" never silently means
 * "ignored". Remove an entry here when the key starts to work.
 */
import type { IssueList } from "./errors.ts";
import { isRecord } from "./models.ts";
import type { Segment } from "./yaml-positions.ts";

/** `*` matches any key of a mapping (a model id, a peer id). */
export interface IgnoredKey {
  path: readonly string[];
  reason: string;
  /** Ignored only where this holds of the entry the key sits in (`models.<id>`, `peers.<id>`); always when absent. */
  when?: (entry: unknown) => boolean;
}

const FETCH = "Bun's fetch, which carries modelswap's upstream requests,";
const FETCH_TLS = "For an https: upstream, Bun's fetch, which carries its requests,";

/** Whether a model or peer entry's `proxy` is an https: URL. */
function overTls(entry: unknown): boolean {
  return isRecord(entry) && typeof entry.proxy === "string" && entry.proxy.trim().toLowerCase().startsWith("https:");
}

/** The table. */
export const IGNORED_KEYS: readonly IgnoredKey[] = [
  { path: ["ui", "activity", "session_id"], reason: "modelswap's activity log does not group requests by a session header" },
  ...(["models", "peers"] as const).flatMap((section) => [
    // Honoured by the pooled client that carries plain-HTTP upstreams; an https: upstream goes over fetch.
    { path: [section, "*", "timeouts", "connect"], reason: `${FETCH_TLS} applies no connect timeout (\`responseHeader\` still bounds the wait for an answer)`, when: overTls },
    { path: [section, "*", "timeouts", "keepalive"], reason: `${FETCH_TLS} sets no TCP keepalive`, when: overTls },
    { path: [section, "*", "timeouts", "tlsHandshake"], reason: `${FETCH} applies no TLS handshake timeout` },
    { path: [section, "*", "timeouts", "idleConn"], reason: `${FETCH} closes idle pooled connections on its own schedule, with no setting` },
  ]),
  { path: ["models", "*", "timeouts", "expectContinue"], reason: `${FETCH} never sends \`Expect: 100-continue\`` },
];

/** Warns, at the key, for every key of the table that `root` (the file's values) sets. */
export function warnIgnoredKeys(root: Record<string, unknown>, issues: IssueList, table: readonly IgnoredKey[] = IGNORED_KEYS): void {
  for (const entry of table) {
    for (const path of present(root, entry.path)) {
      if (entry.when !== undefined && !entry.when(valueAt(root, path.slice(0, 2)))) continue;
      issues.warn(path, `Remove \`${String(path[path.length - 1])}\` (it has no effect): ${entry.reason}`);
    }
  }
}

function present(value: unknown, pattern: readonly string[], at: Segment[] = []): Segment[][] {
  if (pattern.length === 0) return [at];
  if (!isRecord(value)) return [];
  const [head, ...rest] = pattern as [string, ...string[]];
  const keys = head === "*" ? Object.keys(value) : head in value ? [head] : [];
  return keys.flatMap((k) => present(value[k], rest, [...at, k]));
}

function valueAt(value: unknown, path: readonly Segment[]): unknown {
  for (const k of path) value = isRecord(value) ? value[String(k)] : undefined;
  return value;
}
