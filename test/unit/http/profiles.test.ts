/** llama-swap's profiles API and what an active profile does to routing (src/http/routes/profiles.ts). */
import { afterAll, describe, expect, test } from "bun:test";
import type { SequencedEvent } from "../../../src/observe/index.ts";
import { config } from "./config-fixture.ts";
import { makeDeps, post, serve, servedBy, startUpstream } from "./helpers.ts";

const upstream = startUpstream();
afterAll(() => upstream.stop());

function setup() {
  const cfg = config(
    { llama: { aliases: ["gpt"] }, qwen: {} },
    {
      profiles: {
        night: { id: "night", description: "cheap at night", pins: { "llm-code": "qwen", gpt: "qwen", llama: null } },
        day: { id: "day", description: "", pins: { "llm-code": "llama" } },
      },
    },
  );
  const deps = makeDeps(servedBy(cfg, upstream.url));
  const published: SequencedEvent["event"][] = [];
  const publish = deps.events.publish.bind(deps.events);
  deps.events.publish = (e) => (published.push(e), publish(e));
  return { app: { request: serve(deps) }, deps, published };
}

const put = (name: unknown) => ({ method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(name === undefined ? {} : { name }) });
const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

describe("GET /api/profiles", () => {
  test("lists the profiles sorted by id, a disabled pin as \"\", and none active at start", async () => {
    const { app } = setup();
    expect(await json(await app.request("/api/profiles"))).toEqual({
      active: null,
      profiles: [
        { id: "day", description: "", pins: { "llm-code": "llama" } },
        { id: "night", description: "cheap at night", pins: { "llm-code": "qwen", gpt: "qwen", llama: "" } },
      ],
    });
  });
});

describe("PUT /api/profiles/active", () => {
  test("activates a profile: pins rewrite requested ids (the upstream sees the target's name), and a change is published", async () => {
    const { app, deps, published } = setup();
    const res = await app.request("/api/profiles/active", put("night"));
    expect([res.status, await json(res)]).toEqual([200, { active: "night" }]);
    expect(published).toEqual([{ kind: "profile", active: "night" }]);
    await app.request("/v1/chat/completions", post({ model: "llm-code", messages: [] }));
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("qwen");
    expect(JSON.parse(new TextDecoder().decode(upstream.received.at(-1)?.body)).model).toBe("qwen");
    await app.request("/v1/chat/completions", post({ model: "gpt" }));
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("qwen");
    expect((await app.request("/v1/chat/completions", post({ model: "llama" }))).status).toBe(404);
    expect((await json(await app.request("/api/profiles"))).active).toBe("night");
  });

  test("null or \"\" selects none; the same selection twice publishes once", async () => {
    const { app, published } = setup();
    await app.request("/api/profiles/active", put("day"));
    await app.request("/api/profiles/active", put("day"));
    expect(await json(await app.request("/api/profiles/active", put(null)))).toEqual({ active: null });
    await app.request("/api/profiles/active", put(""));
    expect(published).toEqual([{ kind: "profile", active: "day" }, { kind: "profile", active: null }]);
    expect((await app.request("/v1/chat/completions", post({ model: "llm-code" }))).status).toBe(404);
  });

  test.each([
    ["an unknown profile", put("nope"), 404, "profile_not_found"],
    ["no name", put(undefined), 400, "invalid_profile"],
    ["a name that is not a string", put(3), 400, "invalid_profile"],
    ["a body that is not JSON", { method: "PUT", body: "night" }, 400, "invalid_profile"],
  ])("%s is refused", async (_name, init, status, code) => {
    const { app } = setup();
    const res = await app.request("/api/profiles/active", init);
    expect(res.status).toBe(status);
    expect(((await json(res)).error as { code: string }).code).toBe(code);
  });
});

describe("the active profile elsewhere", () => {
  test("/v1/models lists its pins (not disabled ones, not model ids), typed as profile", async () => {
    const { app } = setup();
    await app.request("/api/profiles/active", put("night"));
    const ids = ((await json(await app.request("/v1/models"))).data as Array<{ id: string; meta?: unknown }>).map((r) => r.id);
    expect(ids).toEqual(["gpt", "llama", "llm-code", "qwen"]);
    const row = ((await json(await app.request("/v1/models"))).data as Array<{ id: string; meta?: unknown }>).find((r) => r.id === "llm-code");
    expect(row?.meta).toEqual({ llamaswap: { type: "profile" } });
  });

  test("a ?model= pin is rewritten in the query the upstream sees", async () => {
    const { app, deps } = setup();
    await app.request("/api/profiles/active", put("night"));
    expect((await app.request("/props?model=llm-code&x=1")).status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("qwen");
    expect(upstream.received.at(-1)?.search).toBe("?model=qwen&x=1");
  });

  test("/upstream/<pin>/... goes to the pin's target; a disabled pin is 404", async () => {
    const { app, deps } = setup();
    await app.request("/api/profiles/active", put("night"));
    expect((await app.request("/upstream/llm-code/props")).status).toBe(200);
    expect(deps.scheduler.acquires.at(-1)?.model).toBe("qwen");
    expect(upstream.received.at(-1)?.path).toBe("/props");
    expect((await app.request("/upstream/llama/props")).status).toBe(404);
  });
});
