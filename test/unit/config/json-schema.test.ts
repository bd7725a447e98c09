import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema } from "../../../src/config/index.ts";

test("config-schema.json at the repository root is current (regenerate with `npm run schema`)", () => {
  const file = join(import.meta.dir, "../../../config-schema.json");
  expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
});

test("the JSON Schema rejects unknown keys and requires models", () => {
  const schema = configJsonSchema() as { required?: string[]; additionalProperties?: unknown };
  expect(schema.required).toEqual(["models"]);
  expect(schema.additionalProperties).toBe(false);
});
