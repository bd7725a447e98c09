/** A model's state as a coloured badge, with the error and the retry countdown for failed models. */
import type { ModelRow } from "../live.ts";
import { duration } from "../api.ts";

export function StateBadge({ m, now }: { m: ModelRow; now: number }) {
  const retry = m.retryAt === null || m.retryAt === undefined ? "" : m.retryAt > now ? `next try in ${duration(m.retryAt - now + 999)}` : "next request retries";
  return (
    <span class="state-cell">
      <span class={`badge ${m.state || "peer"}`} data-testid={`state-${m.id}`}>
        {m.state || "peer"}
      </span>
      {(m.state === "failed" || m.state === "backoff") && (
        <span class="retry" data-testid={`retry-${m.id}`}>
          {retry}
        </span>
      )}
    </span>
  );
}

/** The last error of a model, its first line in full and the rest folded. */
export function ErrorBox({ m }: { m: ModelRow }) {
  if (!m.error || (m.state !== "failed" && m.state !== "backoff")) return null;
  const [first, ...rest] = m.error.split("\n");
  return (
    <div class="error" data-testid={`error-${m.id}`}>
      <div>{first}</div>
      {rest.length > 0 && <pre>{rest.join("\n")}</pre>}
    </div>
  );
}
