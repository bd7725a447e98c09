import { describe, expect, test } from "bun:test";
import { commandText, joinCommand, splitCommand } from "../../../src/config/cmd-split.ts";

describe("splitCommand splits like a POSIX shell without running one", () => {
  test.each([
    ["plain words", "server --port 8080", ["server", "--port", "8080"]],
    ["runs of spaces and tabs", "a \t  b", ["a", "b"]],
    ["newlines separate words", "a\nb\n  c", ["a", "b", "c"]],
    ["single quotes keep everything literal", `a 'b c $x \\n' d`, ["a", "b c $x \\n", "d"]],
    ["double quotes keep spaces", `--name "my model"`, ["--name", "my model"]],
    ["double quotes unescape \\\" and \\\\", `"say \\"hi\\" \\\\ ok"`, [`say "hi" \\ ok`]],
    ["double quotes keep other backslashes", `"C:\\dir\\n"`, ["C:\\dir\\n"]],
    ["backslash escapes a space outside quotes", "my\\ file.gguf", ["my file.gguf"]],
    ["backslash-newline continues the line", "a \\\n  b", ["a", "b"]],
    ["adjacent quoted parts join", `--x='a'"b"c`, ["--x=abc"]],
    ["empty quotes make an empty argument", `a "" ''`, ["a", "", ""]],
    ["full-line comments are removed", "# start\nserver\n  # indented comment\n--flag", ["server", "--flag"]],
    ["a # inside a word is kept", "a#b --c=#d", ["a#b", "--c=#d"]],
    ["leading and trailing blank lines", "\n\n  a  \n\n", ["a"]],
    ["empty text", "", []],
  ])("%s", (_name, text, argv) => {
    expect(splitCommand(text)).toEqual(argv);
  });

  test.each([[`a 'open`], [`a "open`]])("an unclosed quote is a SyntaxError: %s", (text) => {
    expect(() => splitCommand(text)).toThrow(SyntaxError);
  });
});

describe("commandText joins the command on one line", () => {
  test("comments dropped, continuations and lines joined with one space", () => {
    expect(commandText("# c\nserver \\\n  --a 1\n  --b 2\n")).toBe("server --a 1 --b 2");
  });
});

describe("joinCommand quotes only what needs quoting", () => {
  test.each([
    [["/usr/bin/modelswap"], "/usr/bin/modelswap"],
    [["bun", "src/main.ts", "--x=1"], "bun src/main.ts --x=1"],
    [["/opt/my app/bin", "it's"], `'/opt/my app/bin' 'it'\\''s'`],
    [[""], "''"],
  ])("%j → %s", (argv, text) => {
    expect(joinCommand(argv)).toBe(text);
    expect(splitCommand(text)).toEqual(argv);
  });
});
