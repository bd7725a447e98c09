import { describe, expect, test } from "bun:test";
import { COMMANDS } from "../../../src/cli/commands.ts";
import { helpText, usageText } from "../../../src/cli/help.ts";
import { versionText } from "../../../src/lib/version.ts";

describe("help", () => {
  test("the general help lists every command and the serve options with defaults", () => {
    const text = helpText(null);
    expect(text.split("\n")[0]).toMatch(/^One OpenAI-compatible address/);
    for (const c of COMMANDS) expect(text).toContain(`  ${c.name} `);
    expect(text).toContain("--listen HOST:PORT");
    expect(text).toContain("[default: :8080 (:8443 with TLS)]");
  });

  test.each(COMMANDS.map((c) => [c.name]))("'%s' help documents each of its options", (name) => {
    const spec = COMMANDS.find((c) => c.name === name)!;
    const text = helpText(spec.name);
    expect(text).toContain("USAGE:");
    for (const f of spec.flags) expect(text).toContain(`--${f.name}`);
  });

  test("usage after an error points at --help for that command", () => {
    expect(usageText("validate")).toContain("try 'modelswap validate --help'");
    expect(usageText(null)).toContain("try 'modelswap --help'");
  });

  test("the version line names the runtime and platform", () => {
    expect(versionText()).toBe(`modelswap 0.1.0 (bun ${Bun.version}, ${process.platform}-${process.arch})`);
  });
});
