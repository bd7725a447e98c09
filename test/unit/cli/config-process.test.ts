import { afterAll, expect, test } from "bun:test";
import { loadConfigIsolated } from "../../../src/cli/config-process.ts";
import { tempDir } from "../../helpers/configs.ts";

const tmp = tempDir("modelswap-config-process-");
afterAll(tmp.remove);

test("a config child that cannot answer is said once on stderr, and the config still loads in this process", async () => {
  const file = tmp.write("ok.yaml", "models:\n  a:\n    cmd: llama-server --port ${PORT}\n");
  const err: string[] = [];
  const io = { out: () => {}, err: (line: string) => err.push(line) };
  const config = await loadConfigIsolated(file, io, undefined, undefined, () => Promise.reject(new Error("Cannot load config in a child process: exit code 1: boom")));
  expect(err).toEqual(["modelswap: warning: Cannot load config in a child process: exit code 1: boom; loading it in this process instead"]);
  expect(Object.keys(config?.models ?? {})).toEqual(["a"]);
});
