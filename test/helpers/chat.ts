/** The request most end-to-end tests send. */

export interface ChatOptions {
  /** `stream` in the body (omitted when undefined). */
  stream?: boolean;
  /** More body fields (`max_tokens`, ...). */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * POSTs an OpenAI chat completion for `model` ("hi" from the user) to `url`:
 * modelswap, or a model server.
 *
 * @example
 * ```ts
 * const res = await postChat(ms.url, "m", { stream: true });
 * ```
 */
export function postChat(url: string, model: string, options: ChatOptions = {}): Promise<Response> {
  const stream = options.stream === undefined ? {} : { stream: options.stream };
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify({ model, ...stream, messages: [{ role: "user", content: "hi" }], ...options.body }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
