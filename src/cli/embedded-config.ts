/**
 * The repository's `config.yaml`, built into the program: `modelswap` run
 * where there is no `config.yaml` (and no `--config`) serves these demo models,
 * so the downloaded binary answers requests before the user writes a config.
 */
import text from "../../config.yaml" with { type: "text" };

/** The name errors and logs use for the built-in config. */
export const EMBEDDED_CONFIG_NAME = "<embedded config.yaml>";

/** The demo config's YAML text. */
export const embeddedConfigText: string = text;
