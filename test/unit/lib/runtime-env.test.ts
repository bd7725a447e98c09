import { describe, expect, test } from "bun:test";
import { INJECTED_ENV, RUNTIME_DEFAULTS, withoutRuntimeDefaults, withRuntimeDefaults } from "../../../src/lib/runtime-env.ts";

describe("runtime settings of serve", () => {
  test("the re-exec adds each default the environment lacks and lists what it added", () => {
    const env = withRuntimeDefaults({ PATH: "/bin", BUN_JSC_useGenerationalGC: "1" });
    expect(env).toEqual({
      PATH: "/bin",
      BUN_JSC_useGenerationalGC: "1",
      BUN_CONFIG_MAX_HTTP_REQUESTS: RUNTIME_DEFAULTS.BUN_CONFIG_MAX_HTTP_REQUESTS,
      BUN_JSC_heapGrowthMaxIncrease: RUNTIME_DEFAULTS.BUN_JSC_heapGrowthMaxIncrease,
      BUN_JSC_useFTLJIT: RUNTIME_DEFAULTS.BUN_JSC_useFTLJIT,
      [INJECTED_ENV]: "BUN_CONFIG_MAX_HTTP_REQUESTS,BUN_JSC_heapGrowthMaxIncrease,BUN_JSC_useFTLJIT",
    });
  });

  test("children get the environment without what the re-exec added, and keep what the operator set", () => {
    const env = withRuntimeDefaults({ PATH: "/bin", BUN_JSC_useGenerationalGC: "1" });
    expect(withoutRuntimeDefaults(env)).toEqual({ PATH: "/bin", BUN_JSC_useGenerationalGC: "1" });
    expect(withoutRuntimeDefaults(withRuntimeDefaults({ HOME: "/h" }))).toEqual({ HOME: "/h" });
  });

  test("without the marker (no re-exec happened) nothing is removed", () => {
    const env = { PATH: "/bin", BUN_CONFIG_MAX_HTTP_REQUESTS: "1024" };
    expect(withoutRuntimeDefaults(env)).toEqual(env);
  });
});
