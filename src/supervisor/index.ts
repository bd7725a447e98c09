/**
 * The supervisor subsystem: one model server process at a time, from spawn
 * to the last forked child gone. The scheduler's effects runner imports this.
 */
export { ModelProcess, type ModelProcessHooks, type ProcessSpec } from "./model-process.ts";
export { type ExitInfo, StartFailure, describeExit } from "./start-failure.ts";
export { cleanupLeftovers } from "./leftovers.ts";
export { groupMembers, isAlive } from "./process-tree.ts";
