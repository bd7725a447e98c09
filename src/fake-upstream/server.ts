/**
 * The fake model server: an OpenAI/Anthropic-compatible HTTP server with
 * knobs for start delay, token pacing, failing health and crashes, so
 * modelswap can be run and tested with no GPU and no model.
 */
import type { FakeUpstreamOptions } from "./options.ts";
import { urlHost } from "../lib/listen.ts";
import { countTokens, messages } from "./anthropic.ts";
import { fakeTokens, json, reply, type ReplyContext } from "./context.ts";
import { bodyObject, readEcho } from "./echo.ts";
import { completion, embeddings, models } from "./openai.ts";
import { responses } from "./responses.ts";

export interface FakeUpstream {
  url: string;
  port: number;
  /** Stops listening and closes open connections. */
  stop(): Promise<void>;
}

export interface FakeUpstreamHooks {
  /** One line per request (default: stdout when `verbose`, else nowhere). */
  log?: (line: string) => void;
  /** The readiness lines of a server started with a delay (default: stdout). */
  announce?: (line: string) => void;
  /** How `--exit-after-requests` ends the process (default: `process.exit(1)`). */
  crash?: () => void;
}

/**
 * Starts the fake upstream; the port opens at once, only `/health` (and the
 * API, as llama-server does) answers 503 until `startDelayMs` has passed.
 *
 * @example
 * ```ts
 * const up = startFakeUpstream({ ...defaults, port: 0 });
 * await fetch(`${up.url}/v1/models`);
 * ```
 */
export function startFakeUpstream(options: FakeUpstreamOptions, hooks: FakeUpstreamHooks = {}): FakeUpstream {
  const log = hooks.log ?? (options.verbose ? (line: string) => void process.stdout.write(`${line}\n`) : () => {});
  const crash = hooks.crash ?? (() => process.exit(1));
  const announce = hooks.announce ?? ((line: string) => void process.stdout.write(`${line}\n`));
  // With a start delay it behaves like llama-server loading a model: the port opens at once, /health says 503,
  // and when the load is done it prints a line (llama-server: "server is listening", then "all slots are idle").
  // It also stamps, on its own clock (epoch ms), the first 200 of /health and the first request after it:
  // the benchmark's exact measure of how soon a proxy uses a server that turned ready.
  const delayed = options.startDelayMs > 0;
  let loaded = !delayed;
  const loadTimer = delayed
    ? setTimeout(() => {
        loaded = true;
        announce(`fake-upstream: model loaded after ${options.startDelayMs} ms, server is ready`);
      }, options.startDelayMs)
    : undefined;
  const loading = (): boolean => !loaded;
  const epochMs = (): string => (performance.timeOrigin + performance.now()).toFixed(3);
  let stampedHealthy = !delayed;
  let stampedRequest = !delayed;
  let counted = 0;

  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname;
      if (path === "/health") {
        const status = options.healthFail ? 503 : loading() ? 503 : 200;
        if (status === 200 && !stampedHealthy) {
          stampedHealthy = true;
          announce(`fake-upstream: healthy at ${epochMs()}`);
        }
        return json(status === 200 ? { status: "ok" } : { status: options.healthFail ? "error" : "loading" }, status);
      }
      if (!stampedRequest && !loading()) {
        stampedRequest = true;
        announce(`fake-upstream: first request at ${epochMs()}`);
      }
      const n = ++counted;
      const crashing = options.exitAfterRequests !== null && n >= options.exitAfterRequests;
      const echo = await readEcho(req);
      if (loading()) {
        log(`fake-upstream: ${req.method} ${path} 503 loading`);
        return json({ error: { message: "Loading model", type: "unavailable_error", code: 503 } }, 503);
      }
      if (options.errorStatus !== null) {
        log(`fake-upstream: ${req.method} ${path} ${options.errorStatus} (--error-status)`);
        return errorReply(options.errorStatus);
      }
      const body = bodyObject(echo);
      const fields = body.fields as Record<string, unknown> | undefined;
      const requested = body.model ?? fields?.model;
      const ctx: ReplyContext = {
        echo,
        model: options.model ?? (typeof requested === "string" && requested !== "" ? requested : "fake-model"),
        tokens: fakeTokens(options.tokens),
        pacing: { intervalMs: options.tokenIntervalMs, crashAfter: null, crash },
        crashing,
      };
      log(`fake-upstream: ${req.method} ${path}${body.stream === true ? " stream" : ""} #${n}${crashing ? " (will crash)" : ""}`);
      return route(req.method, path, ctx);
    },
  });
  const port = server.port ?? options.port;
  return {
    url: `http://${urlHost(options.host)}:${port}`,
    port,
    stop: () => {
      clearTimeout(loadTimer);
      return server.stop(true);
    },
  };
}

/**
 * The error body llama-server sends (`format_error_response`): `code` is the
 * HTTP status, `type` OpenAI's name for it.
 */
function errorReply(status: number): Response {
  const type =
    status === 400 ? "invalid_request_error"
    : status === 401 ? "authentication_error"
    : status === 404 ? "not_found_error"
    : status === 501 ? "not_supported_error"
    : status === 503 ? "unavailable_error"
    : "server_error";
  return json({ error: { code: status, message: `fake-upstream: answering ${status} as told (--error-status)`, type } }, status);
}

function route(method: string, path: string, ctx: ReplyContext): Response {
  if (method === "GET" && path === "/v1/models") return models(ctx);
  if (method === "POST") {
    switch (path) {
      case "/v1/chat/completions":
      case "/chat/completions":
        return completion(ctx, false);
      case "/v1/completions":
      case "/completions":
        return completion(ctx, true);
      case "/v1/embeddings":
      case "/embeddings":
        return embeddings(ctx);
      case "/v1/messages":
        return messages(ctx);
      case "/v1/messages/count_tokens":
        return countTokens(ctx);
      case "/v1/responses":
      case "/responses":
        return responses(ctx);
    }
  }
  return reply(ctx, { object: "echo", model: ctx.model, echo: ctx.echo });
}
