/**
 * What the fake upstream received, returned in every response so tests can
 * assert exactly what a proxy forwarded.
 */

/** A multipart file part, summarised (its bytes are not echoed). */
export interface EchoFile {
  filename: string;
  type: string;
  size: number;
}

export interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** JSON when it parses, multipart as `{ fields }`, else text; null when empty. */
  body: unknown;
}

/**
 * Reads `req` once and describes it.
 *
 * @example
 * ```ts
 * const echo = await readEcho(req);
 * echo.body; // { model: "m", messages: [...] }
 * ```
 */
export async function readEcho(req: Request): Promise<Echo> {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return {
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: await readBody(req),
  };
}

async function readBody(req: Request): Promise<unknown> {
  if (req.method === "GET" || req.method === "HEAD") return null;
  const type = req.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    const form = await req.formData();
    const fields: Record<string, string | EchoFile> = {};
    for (const [name, value] of form.entries()) {
      fields[name] =
        typeof value === "string" ? value : { filename: value.name, type: value.type, size: value.size };
    }
    return { fields };
  }
  const text = await req.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The request body as an object, or `{}` when it is not one. */
export function bodyObject(echo: Echo): Record<string, unknown> {
  const b = echo.body;
  return typeof b === "object" && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}
