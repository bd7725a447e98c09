/**
 * Turns a `cmd` text into argv the way a POSIX shell would split it, without
 * ever running a shell: no globbing, no variables, no pipes.
 */

/** Removes full-line `#` comments and joins `\`-newline continuations. */
export function stripCommandComments(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
}

/** The command on one line: comments removed, continuations and lines joined with spaces. */
export function commandText(text: string): string {
  return stripCommandComments(text)
    .split("\n")
    .map((line) => line.trim().replace(/\\$/, "").trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** Characters a backslash escapes inside double quotes (POSIX). */
const DQ_ESCAPABLE = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits command text into argv: full-line comments removed, single quotes
 * literal, double quotes with backslash escapes, backslash escapes outside
 * quotes, any whitespace (newlines included) separating words.
 *
 * @example splitCommand(`server --name 'my model' \\\n  --port 8080`) // ["server", "--name", "my model", "--port", "8080"]
 * @throws {SyntaxError} when a quote is left open
 */
export function splitCommand(text: string): string[] {
  const src = stripCommandComments(text);
  const args: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError("Close the quote: a single quote is never closed");
      word += src.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      let closed = false;
      while (i < src.length) {
        const d = src[i] as string;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < src.length && DQ_ESCAPABLE.has(src[i + 1] as string)) {
          if (src[i + 1] !== "\n") word += src[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) throw new SyntaxError("Close the quote: a double quote is never closed");
    } else if (c === "\\") {
      const next = src[i + 1];
      if (next === undefined) {
        i++;
      } else if (next === "\n" || (next === "\r" && src[i + 2] === "\n")) {
        i += next === "\n" ? 2 : 3;
      } else {
        word += next;
        inWord = true;
        i += 2;
      }
    } else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) args.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) args.push(word);
  return args;
}

/** Joins argv into one shell-safe line, quoting only the parts that need it. */
export function joinCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}
