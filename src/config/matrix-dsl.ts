/**
 * Checks matrix set expressions (`(a | b) & c`, `+other & v`) for syntax and
 * references; the scheduler's matrix policy expands them.
 */

export type MatrixToken = { kind: "(" | ")" | "&" | "|" } | { kind: "ref"; name: string } | { kind: "id"; name: string };

/** Splits an expression into tokens: operators, `+set` references and model ids or vars. */
export function tokenizeMatrixExpr(expr: string): MatrixToken[] {
  const tokens: MatrixToken[] = [];
  const re = /\s*(?:([()&|])|\+([^\s()&|+]+)|([^\s()&|+]+))/y;
  let m: RegExpExecArray | null;
  let last = 0;
  while (last < expr.length && (m = re.exec(expr)) !== null) {
    last = re.lastIndex;
    if (m[1]) tokens.push({ kind: m[1] as "(" | ")" | "&" | "|" });
    else if (m[2]) tokens.push({ kind: "ref", name: m[2] });
    else if (m[3]) tokens.push({ kind: "id", name: m[3] });
  }
  if (expr.slice(last).trim() !== "") throw new SyntaxError(`Cannot parse matrix expression: unexpected text at ${JSON.stringify(expr.slice(last).trim())}`);
  return tokens;
}

/**
 * Validates grammar `expr := term ('|' term)*; term := factor ('&' factor)*;
 * factor := id | +ref | '(' expr ')'` and returns the ids and refs used.
 *
 * @throws {SyntaxError} with a message naming what was expected
 */
export function parseMatrixExpr(expr: string): { ids: string[]; refs: string[] } {
  const tokens = tokenizeMatrixExpr(expr);
  const ids: string[] = [];
  const refs: string[] = [];
  let i = 0;
  const fail = (what: string): never => {
    const t = tokens[i];
    const found = t === undefined ? "the end" : t.kind === "id" || t.kind === "ref" ? JSON.stringify(t.kind === "ref" ? `+${t.name}` : t.name) : `"${t.kind}"`;
    throw new SyntaxError(`Cannot parse matrix expression: expected ${what}, found ${found}`);
  };
  const factor = (): void => {
    const t = tokens[i];
    if (t?.kind === "id") {
      ids.push(t.name);
      i++;
    } else if (t?.kind === "ref") {
      refs.push(t.name);
      i++;
    } else if (t?.kind === "(") {
      i++;
      alternatives();
      if (tokens[i]?.kind !== ")") fail('")"');
      i++;
    } else fail("a model, +set or (");
  };
  const term = (): void => {
    factor();
    while (tokens[i]?.kind === "&") {
      i++;
      factor();
    }
  };
  const alternatives = (): void => {
    term();
    while (tokens[i]?.kind === "|") {
      i++;
      term();
    }
  };
  alternatives();
  if (i < tokens.length) fail('"&", "|" or the end');
  return { ids, refs };
}
