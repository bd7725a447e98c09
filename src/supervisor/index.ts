/**
 * The supervisor subsystem: one model server process at a time, from spawn
 * to the last forked child gone. The scheduler's effects runner imports this.
 */
export { KILL_WAIT_MS, ModelProcess, type ModelProcessHooks, type ProcessSpec, type StopResult } from "./model-process.ts";
export { type ExitInfo, StartFailure, describeExit } from "./start-failure.ts";
export { cleanupLeftovers, killRecorded } from "./leftovers.ts";
export { groupMembers, isAlive } from "./process-tree.ts";
export { Janitor, GC_INTERVAL_MS } from "./janitor.ts";
export { acquireStateLock, type LockOwner, type LockResult } from "./lock.ts";
export { prepareStateDir } from "./state-dir.ts";
export { listPidRecords, readPidRecord } from "./pid-record.ts";
export { isLoopbackHost } from "./port-check.ts";
