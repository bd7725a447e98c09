import { afterAll, describe, expect, test } from "bun:test";
import { config } from "./config-fixture.ts";
import { listen, makeDeps, serve, servedBy } from "./helpers.ts";

/** An upstream that echoes each websocket message as `<path>:<message>`. */
const echo = Bun.serve<{ path: string }>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, srv) {
    if (srv.upgrade(req, { data: { path: new URL(req.url).pathname } })) return undefined;
    return new Response("not a websocket", { status: 400 });
  },
  websocket: {
    message(ws, msg) {
      ws.send(`${ws.data.path}:${String(msg)}`);
    },
  },
});
afterAll(() => echo.stop(true));

describe("websocket passthrough on /upstream", () => {
  test("a websocket is bridged both ways, holds its slot while open, and releases it on close", async () => {
    const deps = makeDeps(servedBy(config({ llama: {} }), `http://127.0.0.1:${echo.port}`));
    const server = listen(deps);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/upstream/llama/ws/chat`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.addEventListener("message", (e) => resolve(String(e.data)));
      ws.addEventListener("error", () => reject(new Error("websocket failed")));
    });
    ws.addEventListener("open", () => ws.send("hi"));
    expect(await reply).toBe("/ws/chat:hi");
    expect(deps.scheduler.acquires.at(-1)?.options.noStart).toBeUndefined();
    expect((await deps.scheduler.status())[0]).toMatchObject({ model: "llama", inFlight: 1 });
    ws.close();
    expect(await deps.scheduler.released()).toEqual(["llama"]);
  });

  test("with ignoreWebsockets a websocket never starts the model: 409 when it is not running", async () => {
    const deps = makeDeps(config({ llama: { ignoreWebsockets: true } }));
    const res = await serve(deps)("/upstream/llama/ws", { headers: { Upgrade: "websocket", Connection: "Upgrade" } });
    expect(res.status).toBe(409);
    expect(deps.scheduler.made).toEqual([]);
  });
});
