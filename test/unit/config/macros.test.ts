import { describe, expect, test } from "bun:test";
import { issuesOf, load, onlyIssue } from "./helpers.ts";

describe("${env.VAR}", () => {
  test("is substituted first, everywhere, including inside macros and peers", () => {
    const c = load(
      `
macros:
  home: "\${env.HOME_DIR}/models"
apiKeys: ["\${env.KEY}"]
models:
  m:
    cmd: server --model \${home}/a.gguf --port \${PORT}
peers:
  remote:
    proxy: https://\${env.PEER_HOST}
    apiKey: \${env.KEY}
    models: [x]
`,
      { HOME_DIR: "/srv", KEY: "sk-env", PEER_HOST: "peer.example" },
    );
    expect(c.models.m?.cmd).toEqual(["server", "--model", "/srv/models/a.gguf", "--port", "5800"]);
    expect(c.apiKeys).toEqual(["sk-env"]);
    expect(c.peers.remote).toMatchObject({ proxy: "https://peer.example", apiKey: "sk-env" });
  });

  test("an unquoted value that is one env var takes its YAML type", () => {
    const c = load(`globalTTL: \${env.TTL}\nmodels:\n  m:\n    cmd: s --port \${PORT}\n    unlisted: \${env.HIDE}\n`, { TTL: "90", HIDE: "true" });
    expect(c.globalTTL).toBe(90);
    expect(c.models.m?.unlisted).toBe(true);
  });

  test("a variable that is not set is an error naming it, at the value", () => {
    const issue = onlyIssue(`models:\n  m:\n    cmd: s --port \${PORT}\n    useModelName: "\${env.NOT_SET_ANYWHERE}"\n`);
    expect(issue).toEqual({
      file: "test.yaml",
      line: 4,
      column: 19,
      path: "models.m.useModelName",
      message: "Set the environment variable `NOT_SET_ANYWHERE`: it is not set",
    });
  });

  test("env references in comments are ignored", () => {
    expect(() => load(`# uses \${env.NOPE}\nmodels:\n  m:\n    cmd: s --port \${PORT}\n`)).not.toThrow();
  });
});

describe("macros", () => {
  test("model macros override global ones; a macro may use macros defined before it", () => {
    const c = load(`
macros:
  ctx: 4096
  args: "--ctx \${ctx}"
  server: "/bin/server --port \${PORT}"
models:
  a:
    cmd: \${server} \${args}
  b:
    macros:
      ctx: 8192
    cmd: \${server} \${args} --name \${MODEL_ID}
`);
    expect(c.models.a?.cmd).toEqual(["/bin/server", "--port", "5800", "--ctx", "4096"]);
    expect(c.models.b?.cmd).toEqual(["/bin/server", "--port", "5801", "--ctx", "8192", "--name", "b"]);
  });

  test("a macro that uses one defined after it is left over, and that is an error", () => {
    const issue = onlyIssue(`
macros:
  first: "\${second}"
  second: x
models:
  m:
    cmd: s \${first} --port \${PORT}
`);
    expect(issue).toMatchObject({ line: 7, column: 10, path: "models.m.cmd" });
    expect(issue.message).toContain("`${second}` is not a defined macro");
  });

  test("a value that is exactly one macro keeps the macro's type", () => {
    const c = load(`
macros:
  temp: 0.7
  on: true
  label: hello
models:
  m:
    cmd: s --port \${PORT}
    macros:
      ctx: 16384
    metadata:
      port: \${PORT}
      temperature: \${temp}
      flag: "\${on}"
      text: "t=\${temp} on \${PORT}"
      list: ["\${temp}", false, "id \${MODEL_ID}"]
      deep: { ctx: "\${ctx}" }
    filters:
      setParams:
        temperature: \${temp}
        name: \${label}
      setParamsByID:
        "\${MODEL_ID}:cold":
          temperature: \${temp}
    capabilities:
      context: \${ctx}
    concurrencyLimit: "\${ctx}"
`);
    const m = c.models.m;
    expect(m?.metadata).toEqual({
      port: 5800,
      temperature: 0.7,
      flag: true,
      text: "t=0.7 on 5800",
      list: [0.7, false, "id m"],
      deep: { ctx: 16384 },
    });
    expect(m?.filters.setParams).toEqual({ temperature: 0.7, name: "hello" });
    expect(m?.filters.setParamsByID).toEqual({ "m:cold": { temperature: 0.7 } });
    expect(m?.capabilities?.context).toBe(16384);
    expect(m?.concurrencyLimit).toBe(16384);
  });

  test("MODEL_ID works everywhere in a model, including aliases, name and setParamsByID keys", () => {
    const c = load(`
models:
  qwen:
    cmd: docker run --name \${MODEL_ID} -p \${PORT}:8080 image
    cmdStop: docker stop \${MODEL_ID}
    name: "\${MODEL_ID} model"
    aliases: ["\${MODEL_ID}-latest"]
    filters:
      setParamsByID:
        "\${MODEL_ID}": { effort: medium }
        "\${MODEL_ID}:high": { effort: high }
`);
    const m = c.models.qwen;
    expect(m?.cmd).toEqual(["docker", "run", "--name", "qwen", "-p", "5800:8080", "image"]);
    expect(m?.cmdStop).toEqual(["docker", "stop", "qwen"]);
    expect(m?.name).toBe("qwen model");
    expect(m?.aliases).toEqual(["qwen-latest", "qwen:high"]);
  });

  test("MODELSWAP is the command line that runs this program", () => {
    const c = load(`models:\n  fake:\n    cmd: \${MODELSWAP} fake-upstream --port \${PORT}\n`);
    expect(c.models.fake?.cmd).toEqual(["/opt/modelswap/modelswap", "fake-upstream", "--port", "5800"]);
  });

  test.each(["PORT", "MODEL_ID", "PID", "MODELSWAP"])("the reserved name %s cannot be defined", (name) => {
    const issue = onlyIssue(`macros:\n  ${name}: x\nmodels:\n  m:\n    cmd: s --port \${PORT}\n`);
    expect(issue).toMatchObject({ line: 2, column: 3, path: `macros.${name}` });
    expect(issue.message).toContain("is reserved");
  });

  test.each([
    ["bad name", `"has space": 1`, "must match"],
    ["long name", `${"x".repeat(64)}: 1`, "shorter than 64"],
    ["list value", "m: [1, 2]", "Expected a string, number or boolean: got a list"],
  ])("an invalid macro is an error: %s", (_name, entry, message) => {
    const issue = onlyIssue(`macros:\n  ${entry}\nmodels:\n  m:\n    cmd: s --port \${PORT}\n`);
    expect(issue.line).toBe(2);
    expect(issue.message).toContain(message);
  });

  test("PID outside cmdStop and unknown macros are errors naming the macro", () => {
    const issues = issuesOf(`
models:
  m:
    cmd: s --port \${PORT} --pid \${PID} --x \${nope}
`);
    expect(issues.map((i) => [i.path, i.line, i.column])).toEqual([
      ["models.m.cmd", 4, 10],
      ["models.m.cmd", 4, 10],
    ]);
    expect(issues[0]?.message).toContain("${PID}");
    expect(issues[1]?.message).toContain("`${nope}`");
  });
});

describe("${PORT}", () => {
  test("is assigned from startPort in sorted model-id order, only to models whose cmd uses it", () => {
    const c = load(`
startPort: 9000
models:
  zeta: { cmd: "z --port \${PORT}" }
  alpha: { cmd: "a --port \${PORT}" }
  Beta: { cmd: "b --port \${PORT}" }
  fixed: { cmd: "f --port 7000", proxy: "http://127.0.0.1:7000" }
  mid: { cmd: "m --port \${PORT}" }
`);
    const ports = Object.fromEntries(Object.values(c.models).map((m) => [m.id, m.port]));
    expect(ports).toEqual({ Beta: 9000, alpha: 9001, fixed: null, mid: 9002, zeta: 9003 });
    expect(c.models.mid?.proxy).toBe("http://127.0.0.1:9002");
  });

  test("a macro containing ${PORT} counts as cmd using it", () => {
    const c = load(`macros:\n  srv: "s --port \${PORT}"\nmodels:\n  m:\n    cmd: \${srv}\n`);
    expect(c.models.m?.port).toBe(5800);
  });

  test("can be used in an explicit proxy", () => {
    const c = load(`models:\n  m:\n    cmd: s --port \${PORT}\n    proxy: http://localhost:\${PORT}/v1\n`);
    expect(c.models.m?.proxy).toBe("http://localhost:5800/v1");
  });
});

describe("cmd comments", () => {
  test("are removed before macros expand, so a multi-line macro in a comment cannot leak", () => {
    const c = load(`
macros:
  server: >
    /bin/server --port \${PORT}
models:
  m:
    cmd: |
      # \${server} is defined above
      \${server}
      --flag
`);
    expect(c.models.m?.cmd).toEqual(["/bin/server", "--port", "5800", "--flag"]);
  });
});

describe("YAML anchors and merge keys", () => {
  test("are resolved; errors inside merged keys point at the local key", () => {
    const yaml = `
models:
  a: &base
    cmd: s --port \${PORT}
    ttl: 30
    env: [A=1]
  b:
    <<: *base
    ttl: 5
  c:
    <<: *base
    ttl: nope
`;
    const issue = onlyIssue(yaml);
    expect(issue).toMatchObject({ path: "models.c.ttl", line: 12, column: 10 });
    const c = load(yaml.replace("ttl: nope", "aliases: [see]"));
    expect(c.models.b).toMatchObject({ ttl: 5, env: { A: "1" }, port: 5801 });
    expect(c.models.c).toMatchObject({ ttl: 30, aliases: ["see"], port: 5802 });
  });
});
