/** Prints the config file's JSON Schema; `npm run schema` writes it to config-schema.json. */
import { configJsonSchema } from "../config/index.ts";

process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
