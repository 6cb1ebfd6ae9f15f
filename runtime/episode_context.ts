import type { ExecutionGraph } from "../dsl/mod.ts";
import type { FileChange } from "./events.ts";
import type { Task } from "./load_tasks.ts";
import type { ModelClient, Sandbox } from "./ports.ts";
import type { RoleResult } from "./role_result.ts";
import type { RunStore } from "./run_store.ts";
import type { SlotPool } from "./_slot_pool.ts";

/** Workspace operations the turn loop needs: listing files and attributing changes to one execution. */
export interface WorkspaceTracker {
  /** Regular files of the workspace, relative paths, sorted. */
  files(): Promise<string[]>;
  /**
   * Runs `fn` while holding the workspace, then reports what changed (created, modified, deleted, with
   * sha256), removing symlinks, FIFOs, sockets and devices, and storing changed files in the run's blobs.
   */
  track<T>(fn: () => Promise<T>): Promise<{ result: T; changes: FileChange[] }>;
  /** Runs `fn` while holding the workspace (no execution meanwhile), without a snapshot: for host reads. */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Everything one episode's roles share. */
export interface EpisodeContext {
  readonly graph: ExecutionGraph;
  readonly task: Task;
  readonly episodeId: string;
  readonly attempt: number;
  readonly workspaceDir: string;
  readonly workspace: WorkspaceTracker;
  readonly model: ModelClient;
  readonly sandbox: Sandbox;
  readonly sandboxSlots: SlotPool;
  /** Per-tool limits on concurrent executions (a tool's `max_concurrency`), across episodes. */
  readonly toolSlots: ReadonlyMap<string, SlotPool>;
  readonly store: RunStore;
  /** The latest result of each role (a loop peer's from the previous round until it runs again). */
  readonly results: Map<string, RoleResult>;
  readonly nextActionIndex: () => number;
  /** Counts of this episode's model calls that failed for a reason that may pass (see run_role.ts). */
  readonly failures: { model: number };
  readonly signal: AbortSignal;
}
