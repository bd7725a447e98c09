/**
 * llama-swap's profiles API: `GET /api/profiles` lists the configured
 * profiles and the active one; `PUT /api/profiles/active` with
 * `{"name": "id"}` activates one and `{"name": null}` (or `""`) selects none.
 * The active profile's pins rewrite requested model ids before anything else
 * (`resolve/targets.ts`). None is active at start-up and after a reload.
 * A change is logged and published as `profileChanged` on `/api/events`.
 */
import type { Hono } from "hono";
import { HttpError } from "../errors.ts";
import type { Front } from "../state.ts";

/** The `GET /api/profiles` body, llama-swap's shape (a disabled pin reads as `""`), sorted by id. */
export function listProfiles(front: Front): { active: string | null; profiles: Array<{ id: string; description: string; pins: Record<string, string> }> } {
  const profiles = Object.values(front.deps.config.profiles)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => ({ id: p.id, description: p.description, pins: Object.fromEntries(Object.entries(p.pins).map(([k, v]) => [k, v ?? ""])) }));
  return { active: front.profile, profiles };
}

/**
 * Activates `name` (null or "" for none); 404 for an unknown profile.
 * Returns whether the selection changed.
 */
export function setActiveProfile(front: Front, name: string | null): boolean {
  const next = name === "" ? null : name;
  if (next !== null && !Object.hasOwn(front.deps.config.profiles, next)) {
    throw new HttpError("profile_not_found", `Cannot activate profile: '${next}' is not configured`);
  }
  if (front.profile === next) return false;
  front.profile = next;
  front.log("info", `active profile changed to ${JSON.stringify(next ?? "")}`);
  front.deps.events.publish({ kind: "profile", active: next });
  return true;
}

/** Routes for `/api/profiles` (why: clients switch pins at runtime, as in llama-swap's UI). */
export function profileRoutes(app: Hono, front: Front): void {
  app.get("/api/profiles", (c) => c.json(listProfiles(front)));
  app.put("/api/profiles/active", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new HttpError("invalid_profile", "Cannot set the active profile: the body must be JSON like {\"name\": \"profile\"}");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body) || !Object.hasOwn(body, "name")) {
      throw new HttpError("invalid_profile", "Cannot set the active profile: the profile name is required");
    }
    const name = (body as { name: unknown }).name;
    if (name !== null && typeof name !== "string") throw new HttpError("invalid_profile", "Cannot set the active profile: the name must be a string or null");
    setActiveProfile(front, name);
    return c.json({ active: front.profile });
  });
}
