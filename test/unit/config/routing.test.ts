import { describe, expect, test } from "bun:test";
import { issuesOf, load, onlyIssue } from "./helpers.ts";

const MODELS = `
models:
  llm: { cmd: "s --port \${PORT}", aliases: [chat] }
  tts: { cmd: "s --port \${PORT}" }
  embed: { cmd: "s --port \${PORT}" }
`;

describe("routing", () => {
  test("groups under routing.router.settings, with llama-swap's defaults", () => {
    const c = load(`${MODELS}
routing:
  router:
    use: group
    settings:
      groups:
        main: { members: [llm] }
        side: { swap: false, exclusive: false, persistent: true, members: [tts, embed] }
`);
    expect(c.router).toBe("group");
    expect(c.groups).toEqual({
      main: { id: "main", swap: true, exclusive: true, persistent: false, members: ["llm"] },
      side: { id: "side", swap: false, exclusive: false, persistent: true, members: ["tts", "embed"] },
    });
    expect(c.matrix).toBeNull();
  });

  test("matrix with vars, evict_costs and sets in definition order", () => {
    const c = load(`${MODELS}
routing:
  router:
    use: matrix
    settings:
      matrix:
        vars: { l: llm, t: tts }
        evict_costs: { t: 20, embed: 3 }
        sets:
          speech: "(l | embed) & t"
          solo: "+speech | embed"
`);
    expect(c.router).toBe("matrix");
    expect(c.groups).toEqual({});
    expect(c.matrix).toEqual({
      vars: { l: "llm", t: "tts" },
      evictCosts: { t: 20, embed: 3 },
      sets: [
        { name: "speech", expr: "(l | embed) & t" },
        { name: "solo", expr: "+speech | embed" },
      ],
    });
  });

  test("scheduler fifo priorities accept model ids and aliases", () => {
    const c = load(`${MODELS}
routing:
  scheduler:
    use: fifo
    settings:
      fifo:
        priority: { llm: 10, chat: 2, tts: -1 }
`);
    expect(c.priority).toEqual({ llm: 10, chat: 2, tts: -1 });
  });

  test.each([
    ["var pointing at an alias", "vars: { l: chat }\n        sets: { a: l }", "routing.router.settings.matrix.vars.l", "`chat` is not a model id"],
    ["unknown id in a set", "sets: { a: \"llm & ghost\" }", "routing.router.settings.matrix.sets.a", "`ghost` is neither"],
    ["unknown set reference", "sets: { a: \"+nope\" }", "routing.router.settings.matrix.sets.a", "`+nope` names no set"],
    ["syntax error", "sets: { a: \"(llm & tts\" }", "routing.router.settings.matrix.sets.a", 'expected ")"'],
    ["evict cost for an unknown model", "evict_costs: { ghost: 2 }\n        sets: { a: llm }", "routing.router.settings.matrix.evict_costs.ghost", "`ghost` is neither"],
  ])("matrix error: %s", (_name, body, path, message) => {
    const issue = onlyIssue(`${MODELS}
routing:
  router:
    use: matrix
    settings:
      matrix:
        ${body}
`);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });

  test("use: matrix without settings.matrix is an error", () => {
    expect(onlyIssue(`${MODELS}\nrouting:\n  router:\n    use: matrix\n`)).toMatchObject({ path: "routing.router.use", line: 9, column: 10 });
  });

  test("priority for an unknown model is an error at its key", () => {
    expect(onlyIssue(`${MODELS}\nrouting:\n  scheduler:\n    settings:\n      fifo:\n        priority: { ghost: 1 }\n`)).toMatchObject({
      path: "routing.scheduler.settings.fifo.priority.ghost",
      line: 11,
      column: 21,
    });
  });

  test("preload accepts aliases and resolves them to model ids", () => {
    expect(load(`${MODELS}\nhooks:\n  on_startup:\n    preload: [chat, " tts "]\n`).preload).toEqual(["llm", "tts"]);
  });
});

describe("ids llama-swap accepts but cannot use", () => {
  const OK = "models:\n  m:\n    cmd: s --port ${PORT}\n";

  test("an undefined group member is dropped with a warning at its position", () => {
    const c = load(`${OK}groups:\n  g:\n    members: [m, ghost]\n`);
    expect(c.groups.g?.members).toEqual(["m"]);
    expect(c.warnings).toEqual(["test.yaml:6:18: groups.g.members[1]: Remove `ghost` from the group or define it: it is not a model id, so it is ignored"]);
  });

  test("an undefined preload id is dropped with a warning at its position", () => {
    const c = load(`${OK}hooks:\n  on_startup:\n    preload: [ghost, m]\n`);
    expect(c.preload).toEqual(["m"]);
    expect(c.warnings).toEqual(["test.yaml:6:15: hooks.on_startup.preload[0]: Remove `ghost` from preload: it is not a model id or alias, so it is ignored"]);
  });
});

describe("legacy spellings", () => {
  test("top-level groups mean routing groups", () => {
    const c = load(`${MODELS}\ngroups:\n  g: { members: [llm, tts] }\n`);
    expect(c.groups.g?.members).toEqual(["llm", "tts"]);
    expect(c.warnings).toEqual([]);
  });

  test("top-level matrix means the matrix router", () => {
    const c = load(`${MODELS}\nmatrix:\n  sets: { all: "llm & tts & embed" }\n`);
    expect(c.router).toBe("matrix");
    expect(c.matrix?.sets).toEqual([{ name: "all", expr: "llm & tts & embed" }]);
  });

  test("top-level groups and routing groups both given: routing wins, with a warning", () => {
    const c = load(`${MODELS}
groups:
  old: { members: [llm] }
routing:
  router:
    settings:
      groups:
        new: { members: [tts] }
`);
    expect(Object.keys(c.groups)).toEqual(["new"]);
    expect(c.warnings).toEqual(["test.yaml:7:1: groups: Remove the top-level `groups`: routing.router is also set and wins"]);
  });

  test("top-level groups and matrix together are an error", () => {
    expect(onlyIssue(`${MODELS}\ngroups: {}\nmatrix:\n  sets: { a: llm }\n`)).toMatchObject({ path: "matrix", line: 8, column: 1 });
  });

  test("strip_params means stripParams, in models and peers", () => {
    const c = load(`
models:
  m:
    cmd: s --port \${PORT}
    filters:
      strip_params: "top_k, model"
peers:
  p:
    proxy: http://10.0.0.2:8080
    models: [x]
    filters:
      strip_params: seed
`);
    expect(c.models.m?.filters.stripParams).toEqual(["top_k"]);
    expect(c.peers.p?.filters.stripParams).toEqual(["seed"]);
  });

  test("strip_params and stripParams together are an error", () => {
    expect(onlyIssue(`models:\n  m:\n    cmd: s --port \${PORT}\n    filters:\n      stripParams: a\n      strip_params: b\n`)).toMatchObject({
      path: "models.m.filters.strip_params",
      line: 6,
      column: 7,
    });
  });

  test("logRequests is accepted and ignored, with a warning", () => {
    const c = load(`logRequests: true\n${MODELS}`);
    expect(c.warnings).toEqual(["test.yaml:1:1: logRequests: Remove `logRequests`: it is ignored, as llama-swap ignores it"]);
  });
});

describe("peers", () => {
  test("every peer key, with defaults and global macros", () => {
    const c = load(`
macros:
  zdr: true
models:
  m: { cmd: "s --port \${PORT}" }
peers:
  cloud:
    proxy: https://api.example.com/v1/
    apiKey: sk-\${zdr}
    models: [vendor/model-a, model-b]
    filters:
      stripParams: "temperature, top_p"
      setParams:
        provider: { zdr: "\${zdr}" }
    timeouts: { connect: 5, responseHeader: 60 }
  lan:
    proxy: http://192.168.1.9:8080
    models: [small]
`);
    expect(c.peers.cloud).toEqual({
      id: "cloud",
      proxy: "https://api.example.com/v1",
      apiKey: "sk-true",
      models: ["vendor/model-a", "model-b"],
      timeouts: { connect: 5, keepalive: 30, responseHeader: 60, tlsHandshake: 10, idleConn: 90 },
      filters: { stripParams: ["temperature", "top_p"], setParams: { provider: { zdr: true } }, setParamsByID: {} },
    });
    expect(c.peers.lan).toMatchObject({ apiKey: "", filters: { stripParams: [], setParams: {}, setParamsByID: {} } });
  });

  test.each([
    ["missing proxy", "models: [a]", "peers.p.proxy", "Add the required key `proxy`"],
    ["missing models", "proxy: http://h:1", "peers.p.models", "Add the required key `models`"],
    ["proxy not a URL", "proxy: not a url\n    models: [a]", "peers.p.proxy", "Expected an http:// or https:// URL"],
    ["empty models", "proxy: http://h:1\n    models: []", "peers.p.models", "models is empty"],
  ])("peer error: %s", (_name, body, path, message) => {
    const issue = onlyIssue(`models:\n  m: { cmd: "s --port \${PORT}" }\npeers:\n  p:\n    ${body}\n`);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});

describe("selectors", () => {
  test("every selector key, spillover defaults to 1", () => {
    const c = load(`${MODELS}
peers:
  cloud: { proxy: "https://api.example.com", models: [big] }
selectors:
  fast:
    strategy: warm
    targets: [llm, tts]
    name: Fast
    description: Whatever is warm
    unlisted: true
    metadata: { tier: 1 }
  pinned:
    strategy: pin
    targets: [cloud/big, llm]
  spread:
    strategy: spillover
    targets: [chat, embed]
    settings: { spillover: 3 }
  plain:
    strategy: spillover
    targets: [llm]
`);
    expect(c.selectors.fast).toEqual({
      id: "fast",
      strategy: "warm",
      targets: ["llm", "tts"],
      name: "Fast",
      description: "Whatever is warm",
      metadata: { tier: 1 },
      spillover: 1,
      unlisted: true,
    });
    expect(c.selectors.spread?.spillover).toBe(3);
    expect(c.selectors.plain).toMatchObject({ spillover: 1, unlisted: false, name: "", description: "", metadata: {} });
  });

  test("spillover may overflow to a peer model (llama-swap: local or remote targets)", () => {
    const c = load(`${MODELS}
peers:
  cloud: { proxy: "https://api.example.com", models: [big] }
selectors:
  spill:
    strategy: spillover
    targets: [llm, cloud/big]
`);
    expect(c.selectors.spill?.targets).toEqual(["llm", "cloud/big"]);
  });

  test.each([
    ["unknown target", "s:\n    strategy: pin\n    targets: [ghost]", "selectors.s.targets[0]", "`ghost` is not a model"],
    ["selector target", "s:\n    strategy: pin\n    targets: [t]\n  t:\n    strategy: pin\n    targets: [llm]", "selectors.s.targets[0]", "cannot be chained"],
    ["id collides with a model", "llm:\n    strategy: pin\n    targets: [tts]", "selectors.llm", "already a model id"],
    ["id collides with an alias", "chat:\n    strategy: pin\n    targets: [tts]", "selectors.chat", "already an alias"],
    ["warm on a peer model", "s:\n    strategy: warm\n    targets: [cloud/big]", "selectors.s.targets[0]", "needs local models"],
    ["bad strategy", "s:\n    strategy: balance\n    targets: [llm]", "selectors.s.strategy", 'Expected one of "warm", "pin", "spillover"'],
    ["no targets", "s:\n    strategy: pin\n    targets: []", "selectors.s.targets", "Expected at least one target"],
    ["spillover below 1", "s:\n    strategy: spillover\n    targets: [llm]\n    settings: { spillover: 0 }", "selectors.s.settings.spillover", "Expected an integer >= 1"],
  ])("selector error: %s", (_name, body, path, message) => {
    const issue = onlyIssue(`${MODELS}\npeers:\n  cloud: { proxy: "https://api.example.com", models: [big] }\nselectors:\n  ${body}\n`);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});

describe("profiles", () => {
  test("pins map ids to targets; null and empty disable the id", () => {
    const c = load(`${MODELS}
selectors:
  any: { strategy: pin, targets: [llm] }
profiles:
  work:
    description: Daytime
    pins:
      coder: llm
      voice: any
      image: ~
      video: ""
`);
    expect(c.profiles.work).toEqual({ id: "work", description: "Daytime", pins: { coder: "llm", voice: "any", image: null, video: null } });
  });

  test("a pin to an unknown target is an error at the pin", () => {
    expect(onlyIssue(`${MODELS}\nprofiles:\n  p:\n    pins:\n      x: ghost\n`)).toMatchObject({ path: "profiles.p.pins.x", line: 10, column: 10 });
  });

  test("a profile without pins is an error", () => {
    const issues = issuesOf(`${MODELS}\nprofiles:\n  p:\n    pins: {}\n`);
    expect(issues.map((i) => i.path)).toEqual(["profiles.p.pins"]);
  });
});
