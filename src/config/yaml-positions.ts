/**
 * YAML → plain JS values, remembering the line and column of every key and
 * value, so that errors found long after parsing can still point at the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";

export type Segment = string | number;
/** 1-based line and column; `file` is set when a map holds positions of several files (--config-dir). */
export interface Pos {
  line: number;
  column: number;
  file?: string;
}

const SEP = "\u0001";
const keyOf = (path: readonly Segment[]): string => path.map(String).join(SEP);

/** Line/column of each key and value, looked up by key path. */
export class PositionMap {
  readonly #values = new Map<string, Pos>();
  readonly #keys = new Map<string, Pos>();

  setValue(path: readonly Segment[], pos: Pos): void {
    this.#values.set(keyOf(path), pos);
  }

  setKey(path: readonly Segment[], pos: Pos): void {
    this.#keys.set(keyOf(path), pos);
  }

  /** Position of the value (or key) at path, else of the nearest ancestor that has one. */
  find(path: readonly Segment[], prefer: "key" | "value" = "value"): Pos {
    for (let n = path.length; n >= 0; n--) {
      const k = keyOf(path.slice(0, n));
      const first = prefer === "key" ? this.#keys.get(k) : this.#values.get(k);
      const second = prefer === "key" ? this.#values.get(k) : this.#keys.get(k);
      const hit = first ?? second;
      if (hit) return hit;
    }
    return { line: 1, column: 1 };
  }

  /**
   * Copies `other`'s positions under `from` to `to` here, tagged with `file`
   * (merging several files into one document keeps each value's origin).
   */
  graft(other: PositionMap, from: readonly Segment[], to: readonly Segment[], file: string): void {
    const src = keyOf(from);
    const pairs: Array<[Map<string, Pos>, Map<string, Pos>]> = [
      [other.#values, this.#values],
      [other.#keys, this.#keys],
    ];
    for (const [theirs, ours] of pairs) {
      for (const [k, pos] of theirs) {
        const segments = k === "" ? [] : k.split(SEP);
        const under = from.length === 0 || k === src || k.startsWith(src + SEP);
        if (under) ours.set(keyOf([...to, ...segments.slice(from.length)]), { ...pos, file });
      }
    }
  }

  /** Makes positions under `from` also answer for `to` (a key renamed after parsing). */
  copy(from: readonly Segment[], to: readonly Segment[]): void {
    const src = keyOf(from);
    const dst = keyOf(to);
    for (const map of [this.#values, this.#keys]) {
      for (const [k, pos] of [...map]) {
        if (k === src) map.set(dst, pos);
        else if (k.startsWith(src + SEP)) map.set(dst + k.slice(src.length), pos);
      }
    }
  }
}

/** How a string scalar (value or key) is turned into a value: env substitution hooks in here. */
export type StringHook = (text: string, path: readonly Segment[], plain: boolean) => unknown;

export interface ParsedYaml {
  value: unknown;
  positions: PositionMap;
  /** YAML syntax errors, each with a position and a one-line message. */
  errors: Array<{ pos: Pos; message: string }>;
}

/** Parses YAML text keeping positions; `onString` may rewrite each string scalar. */
export function parseYamlWithPositions(text: string, onString: StringHook = (s) => s): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false });
  const positions = new PositionMap();
  const errors = doc.errors.map((e) => {
    const at = lineCounter.linePos(e.pos[0]);
    return {
      pos: { line: at.line, column: at.col },
      message: `Fix the YAML syntax: ${e.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`,
    };
  });
  if (errors.length > 0) return { value: undefined, positions, errors };
  const pos = (offset: number): Pos => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const walker = new Walker(doc, pos, positions, onString);
  positions.setValue([], { line: 1, column: 1 });
  const value = doc.contents === null ? null : walker.walk(doc.contents, []);
  return { value, positions, errors };
}

class Walker {
  constructor(
    readonly doc: Document,
    readonly pos: (offset: number) => Pos,
    readonly positions: PositionMap,
    readonly onString: StringHook,
  ) {}

  walk(node: unknown, path: Segment[], record = true): unknown {
    if (isAlias(node)) return this.walk(node.resolve(this.doc), path, false);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (record && range) this.positions.setValue(path, this.pos(range[0]));
    if (isScalar(node)) {
      const v = node.value;
      return typeof v === "string" ? this.onString(v, path, node.type === "PLAIN") : v;
    }
    if (isSeq(node)) return node.items.map((item, i) => this.walk(item, [...path, i], record));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merged: Record<string, unknown>[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key;
        if (isScalar(keyNode) && typeof keyNode.value === "symbol") {
          const src = this.walk(pair.value, path, false);
          for (const m of Array.isArray(src) ? src : [src]) if (m && typeof m === "object") merged.push(m as Record<string, unknown>);
          continue;
        }
        const rawKey = isScalar(keyNode) ? keyNode.value : keyNode;
        let key = rawKey === null || rawKey === undefined ? "" : String(rawKey);
        if (typeof rawKey === "string") key = String(this.onString(rawKey, [...path, rawKey], false));
        const keyRange = (keyNode as { range?: [number, number, number] } | null)?.range;
        if (record && keyRange) this.positions.setKey([...path, key], this.pos(keyRange[0]));
        const child = pair.value;
        if (child === null || child === undefined) {
          if (record && keyRange) this.positions.setValue([...path, key], this.pos(keyRange[0]));
          out[key] = null;
        } else {
          out[key] = this.walk(child, [...path, key], record);
        }
      }
      for (const m of merged) for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
      return out;
    }
    return null;
  }
}
