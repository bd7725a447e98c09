/** Environment variables that tie a process to the test run and test that started it (see leftover-guard.ts). */

/** Names the test runner's pid; inherited by everything a test starts. */
export const RUN_MARK = "MODELSWAP_TEST_RUN";
/** Names the test file and line that spawned a process's ancestor. */
export const SITE_MARK = "MODELSWAP_TEST_SITE";
