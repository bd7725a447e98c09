/**
 * `store.path`: the Activity log kept in a SQLite file (`bun:sqlite`), so
 * `/api/metrics/activity` and `/api/metrics/stats` survive a restart, as
 * llama-swap's store does. Rows are written as they finish, one prepared
 * insert each; at start the newest `metricsMaxInMemory` come back into
 * memory, and ids go on from the highest stored one (never reused). Captures
 * stay in memory only: a restored row has no capture.
 */
import { Database, type Statement } from "bun:sqlite";
import type { ActivityEntry } from "./activity.ts";

export class ActivityStore {
  readonly #db: Database;
  readonly #insert: Statement;

  /**
   * Opens (or creates) the file at `path`.
   *
   * @example
   * ```ts
   * const store = new ActivityStore("activity.db");
   * store.add(entry);
   * ```
   * @throws {Error} when the file cannot be opened or is not a SQLite database
   */
  constructor(readonly path: string) {
    this.#db = new Database(path, { create: true });
    // WAL: a reader (another tool looking at the file) never blocks the proxy's writes.
    this.#db.run("PRAGMA journal_mode = WAL");
    this.#db.run("CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY, entry TEXT NOT NULL)");
    this.#insert = this.#db.prepare("INSERT OR REPLACE INTO activity (id, entry) VALUES (?, ?)");
  }

  /** Stores one finished row (without its capture flag: captures are not persisted). */
  add(entry: ActivityEntry): void {
    this.#insert.run(entry.id, JSON.stringify({ ...entry, has_capture: false }));
  }

  /** The newest `limit` rows, oldest first. */
  newest(limit: number): ActivityEntry[] {
    const rows = this.#db.query("SELECT entry FROM activity ORDER BY id DESC LIMIT ?").all(limit) as Array<{ entry: string }>;
    return rows.reverse().map((r) => JSON.parse(r.entry) as ActivityEntry);
  }

  /** The highest id ever stored (0 for an empty store). */
  lastId(): number {
    const row = this.#db.query("SELECT MAX(id) AS id FROM activity").get() as { id: number | null } | null;
    return row?.id ?? 0;
  }

  close(): void {
    this.#db.close();
  }
}
