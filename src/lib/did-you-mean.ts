/**
 * "Did you mean" hints for mistyped flags, commands and config keys, the way
 * git and cargo offer them.
 */

/** Edit distance, case-insensitive, counting an adjacent swap as one edit (`lsiten` ≈ `listen`). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** Spelling without case, `_` and `-` (`strip_params` ≈ `stripParams`). */
function folded(word: string): string {
  return word.replace(/[_-]/g, "").toLowerCase();
}

/**
 * The candidate `input` most likely meant, or null when none is close enough
 * to be a plausible typo: within a third of the length in edits (at least 1),
 * a prefix of 3+ characters, or the same word but for case, `_` and `-`.
 *
 * @example
 * ```ts
 * closest("confg", ["config", "listen"]); // "config"
 * closest("starport", ["startPort"]);     // "startPort"
 * ```
 */
export function closest(input: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = folded(c) === folded(input) ? 0 : c.startsWith(input) && input.length >= 3 ? 1 : editDistance(input, c);
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(Math.max(input.length, 3) / 3)) ? best : null;
}
