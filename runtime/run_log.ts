import { basename, join } from "node:path";
import type { ExecutionGraph, GraphRole } from "../dsl/mod.ts";
import { ActionHistory, ActionRefError } from "./action_history.ts";
import { type ActionEvent, type RunEvent, RunEventSchema } from "./events.ts";
import { parseJsonLine, readJsonLines } from "./json_lines.ts";
import type { Task } from "./load_tasks.ts";
import { readRunManifest } from "./manifest.ts";
import { RunStoreError } from "./run_store_error.ts";

/** Identifies one action of a run: the unit a verdict scores. */
export interface ActionKey {
  readonly episode_id: string;
  readonly attempt: number;
  readonly action_index: number;
  readonly role: string;
}

/** An event that belongs to one episode attempt. */
export type EpisodeEvent = Extract<RunEvent, { episode_id: string }>;
/** The `role_finished` record of one role's round. */
export type RoleFinishedEvent = Extract<RunEvent, { kind: "role_finished" }>;
/** The `episode_started` record of an episode attempt. */
export type EpisodeStartedEvent = Extract<
  RunEvent,
  { kind: "episode_started" }
>;

/** Options of {@linkcode RunLog.load} and {@linkcode RunLog.fromGraph}. */
export interface RunLogOptions {
  /**
   * The run's tasks (from `loadTasks`), for evidence's `task.<input>` in runs whose `episode_started`
   * events predate recording `task.inputs`. Recorded inputs are used otherwise.
   */
  readonly tasks?: readonly Task[];
}

interface EpisodeRecord {
  readonly attempt: number;
  readonly events: EpisodeEvent[];
}

function isEpisodeEvent(event: RunEvent): event is EpisodeEvent {
  return "episode_id" in event;
}

/**
 * A run's graph and events, keeping for each episode only its last attempt (as readers of a resumed run
 * must). Loaded from a run directory, or filled event by event while the runtime runs (inline scoring).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExecutionGraph } from "../dsl/mod.ts";
 * import { RunLog } from "./run_log.ts";
 * const log = RunLog.fromGraph({ roles: [] } as unknown as ExecutionGraph, "demo__0__1");
 * log.add({
 *   run_id: "demo__0__1", step: 0, ts: "", role: null, kind: "episode_started", episode_id: "eval:1",
 *   attempt: 1, task_id: "1", split: "eval", index: 0, category: null, workspace: "/tmp/w",
 * });
 * assert.deepEqual(log.actions(), []);
 * assert.equal(log.episodeStarted("eval:1")?.task_id, "1");
 * ```
 */
export class RunLog {
  readonly graph: ExecutionGraph;
  readonly runId: string;
  readonly #episodes = new Map<string, EpisodeRecord>();
  readonly #roles: ReadonlyMap<string, GraphRole>;
  readonly #tasks = new Map<string, Task>();
  readonly #history = new ActionHistory();

  private constructor(
    graph: ExecutionGraph,
    runId: string,
    options: RunLogOptions,
  ) {
    this.graph = graph;
    this.runId = runId;
    this.#roles = new Map(graph.roles.map((r) => [r.id, r]));
    for (const t of options.tasks ?? []) {
      this.#tasks.set(`${t.split}:${t.id}`, t);
    }
  }

  /** An empty log to fill with {@linkcode RunLog.add} as the runtime emits events. */
  static fromGraph(
    graph: ExecutionGraph,
    runId: string,
    options: RunLogOptions = {},
  ): RunLog {
    return new RunLog(graph, runId, options);
  }

  /** Reads `manifest.json` (its `graph`) and `events.jsonl` of a run directory; a torn last line is skipped. */
  static async load(dir: string, options: RunLogOptions = {}): Promise<RunLog> {
    const manifest = await readRunManifest(dir, "load");
    const graph = manifest.graph as ExecutionGraph | undefined;
    if (
      graph === null || typeof graph !== "object" || !Array.isArray(graph.roles)
    ) {
      throw new RunStoreError(
        `Cannot load run ${dir}: its manifest.json has no compiled graph`,
        dir,
      );
    }
    const runId = typeof manifest.run_id === "string"
      ? manifest.run_id
      : basename(dir);
    const log = new RunLog(graph, runId, options);
    const lines = await readJsonLines(join(dir, "events.jsonl"));
    for (const [n, line] of lines ?? []) {
      const parsed = parseJsonLine(RunEventSchema, line);
      if (!parsed?.success) {
        throw new RunStoreError(
          `Cannot load run ${dir}: events.jsonl line ${n} is not a valid event`,
          dir,
        );
      }
      try {
        log.add(parsed.data);
      } catch (e) {
        if (!(e instanceof ActionRefError)) throw e;
        throw new RunStoreError(
          `Cannot load run ${dir}: events.jsonl line ${n}: ${e.message}`,
          dir,
          { cause: e },
        );
      }
    }
    return log;
  }

  /**
   * Records one event; events of an episode's earlier attempts are dropped once a later one starts. An
   * action's references to earlier actions are resolved (`ActionHistory`), so every action read from the
   * log has its full messages and prompt ids, whichever format wrote the run.
   */
  add(recorded: RunEvent): void {
    if (recorded.run_id !== this.runId) {
      throw new TypeError(
        `Cannot add an event to the log of run "${this.runId}": it belongs to run "${recorded.run_id}"`,
      );
    }
    const event = this.#history.resolve(recorded);
    if (!isEpisodeEvent(event)) return;
    const record = this.#episodes.get(event.episode_id);
    if (record === undefined || event.attempt > record.attempt) {
      this.#episodes.set(event.episode_id, {
        attempt: event.attempt,
        events: [event],
      });
    } else if (event.attempt === record.attempt) {
      record.events.push(event);
    }
  }

  /** Every action of the kept attempts, in the order they were recorded. */
  actions(): ActionKey[] {
    const out: ActionKey[] = [];
    for (const [episode_id, record] of this.#episodes) {
      for (const e of record.events) {
        if (e.kind !== "action") continue;
        out.push({
          episode_id,
          attempt: e.attempt,
          action_index: e.action_index,
          role: e.role ?? "",
        });
      }
    }
    return out;
  }

  /** The ids of the episodes in the log, in the order they started. */
  episodeIds(): string[] {
    return [...this.#episodes.keys()];
  }

  /** The events of an episode's kept attempt, in order. */
  episodeEvents(episodeId: string): readonly EpisodeEvent[] {
    return this.#episodes.get(episodeId)?.events ?? [];
  }

  /** The `episode_started` record of an episode's kept attempt. */
  episodeStarted(episodeId: string): EpisodeStartedEvent | undefined {
    return this.episodeEvents(episodeId).find((e) =>
      e.kind === "episode_started"
    ) as EpisodeStartedEvent | undefined;
  }

  /** The action a key names; throws when the log does not hold it (a caller's mistake). */
  action(key: ActionKey): ActionEvent {
    const record = this.#episodes.get(key.episode_id);
    const found = record?.attempt === key.attempt
      ? record.events.find((e) =>
        e.kind === "action" && e.action_index === key.action_index
      )
      : undefined;
    if (found === undefined || found.kind !== "action") {
      throw new RangeError(
        `Cannot find action ${key.action_index} of episode "${key.episode_id}" attempt ${key.attempt}: the log of run "${this.runId}" does not hold it`,
      );
    }
    return found;
  }

  /** A role of the graph; throws for an id the graph does not declare. */
  role(id: string): GraphRole {
    const role = this.#roles.get(id);
    if (role === undefined) {
      throw new RangeError(
        `Cannot find role "${id}": the graph of run "${this.runId}" declares ${
          [...this.#roles.keys()].map((r) => `"${r}"`).join(", ")
        }`,
      );
    }
    return role;
  }

  /** The task of an episode, when the log was given the run's tasks. */
  task(episodeId: string): Task | undefined {
    return this.#tasks.get(episodeId);
  }

  /** The actions of one role's round in an episode, in order. */
  roundActions(episodeId: string, role: string, round: number): ActionEvent[] {
    return this.episodeEvents(episodeId).filter((e): e is ActionEvent =>
      e.kind === "action" && e.role === role && e.round === round
    );
  }

  /** The role's last action of the round the key's action belongs to, once it is recorded. */
  lastActionOfRound(key: ActionKey): ActionEvent | undefined {
    const action = this.action(key);
    return this.roundActions(key.episode_id, key.role, action.round).find((
      e,
    ) => e.stop_reason !== "continue");
  }

  /**
   * Whether the action's evidence is complete: its role's round has ended, so facts about the role's
   * last action (files still missing, outputs not given) are known. Inline coaches wait for this.
   */
  isComplete(key: ActionKey): boolean {
    return this.lastActionOfRound(key) !== undefined;
  }

  /**
   * The workspace's regular files when an action started: the seeded input files (`episode_started.files`,
   * else the dataset's declared files), then every change of the episode's earlier actions replayed in
   * log order (rejected files were removed by the runtime).
   */
  filesBefore(key: ActionKey): string[] {
    const step = this.action(key).step;
    const seeded = this.episodeStarted(key.episode_id)?.files;
    const files = new Set(
      seeded ? Object.keys(seeded) : this.graph.dataset.files.map((f) => f.as),
    );
    for (const e of this.episodeEvents(key.episode_id)) {
      if (e.kind !== "action" || e.step >= step) continue;
      for (const x of e.executions) {
        for (const f of x.files) {
          if (f.kind !== "file" || f.rejected || f.change === "deleted") {
            files.delete(f.path);
          } else files.add(f.path);
        }
      }
    }
    return [...files].sort();
  }

  /** The latest `role_finished` of a role recorded before `beforeStep` (every one when absent). */
  roleFinished(
    episodeId: string,
    role: string,
    beforeStep = Infinity,
  ): RoleFinishedEvent | undefined {
    return this.episodeEvents(episodeId).findLast((e) =>
      e.kind === "role_finished" && e.role === role && e.step < beforeStep
    ) as RoleFinishedEvent | undefined;
  }
}
