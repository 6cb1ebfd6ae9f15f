import { DETERMINISTIC_JUDGE } from "./deterministic_judge.ts";
import { join } from "node:path";
import { RunEventSchema } from "../runtime/events.ts";
import { type Verdict, VerdictSchema } from "./types.ts";

// Test and benchmark fixtures: a run directory written from a short description (episodes, replies,
// scores per layer), every event checked against RunEventSchema and every verdict against VerdictSchema.

/** One action of a synthetic episode: the role, its reply, and its score in each layer (null: unscored). */
export interface SyntheticAction {
  readonly role: string;
  readonly reply: string;
  readonly scores: readonly (number | null)[];
  /** Status of each tool execution; anything but "ok" is a tool error. */
  readonly tools?: readonly string[];
  /** Required files the role left missing (a contract violation). */
  readonly missing?: readonly string[];
}

/** One synthetic episode. */
export interface SyntheticEpisode {
  readonly id: string;
  readonly category: string | null;
  /** Graded success, written to outcomes.jsonl; null leaves the episode ungraded. */
  readonly success: boolean | null;
  /** The grader could not grade it (written with `success: false`, as gradeEpisode() records it). */
  readonly ungraded?: "grader_missing" | "grader_error" | "grader_timeout";
  readonly status?: "completed" | "failed";
  readonly error?: string;
  readonly actions: readonly SyntheticAction[];
}

/** A synthetic run: the manifest's graph, the episodes, and one entry per score layer. */
export interface SyntheticRun {
  readonly run_id: string;
  readonly policy: "model" | "demo";
  readonly graph: Record<string, unknown>;
  readonly layers: readonly {
    readonly name: string;
    readonly judge: Partial<Verdict["judge"]>;
  }[];
  readonly episodes: readonly SyntheticEpisode[];
}

const TS = "2025-01-01T00:00:00.000Z";

function verdict(
  run: SyntheticRun,
  layer: number,
  ep: SyntheticEpisode,
  i: number,
): Verdict | null {
  const a = ep.actions[i]!;
  if (a.scores.length <= layer) return null;
  const score = a.scores[layer]!;
  const [name, hash] = run.layers[layer]!.name.split("@") as [string, string];
  return VerdictSchema.parse({
    run_id: run.run_id,
    episode_id: ep.id,
    attempt: 1,
    action_index: i,
    role: a.role,
    rubric: { name, hash },
    status: score === null ? "unscored" : "scored",
    raw_score: score,
    score,
    ...(score === null ? { reason: "judge_error" } : {}),
    reasoning: score === null
      ? "the judge did not answer"
      : `score ${score} for ${a.role}`,
    blame: null,
    applied: [],
    judge: {
      ...DETERMINISTIC_JUDGE,
      ...run.layers[layer]!.judge,
    },
    ts: TS,
  });
}

/** Writes manifest.json, events.jsonl (every record checked against RunEventSchema), outcomes.jsonl and the layers. */
export async function writeSyntheticRun(
  dir: string,
  run: SyntheticRun,
): Promise<void> {
  let step = 0;
  const lines: string[] = [];
  const push = (e: Record<string, unknown>) => {
    const event = RunEventSchema.parse({
      run_id: run.run_id,
      step: step++,
      ts: TS,
      role: null,
      ...e,
    });
    lines.push(JSON.stringify(event));
  };
  const contract = (missing: readonly string[] = []) => ({
    missing_required: [...missing],
    missing_inputs: [],
    invalid: [],
  });
  push({ kind: "run_started", resumed: false });
  for (const [index, ep] of run.episodes.entries()) {
    const base = { episode_id: ep.id, attempt: 1 };
    push({
      kind: "episode_started",
      ...base,
      task_id: ep.id,
      split: "eval",
      index,
      category: ep.category,
      workspace: "/tmp/w",
    });
    for (const [i, a] of ep.actions.entries()) {
      push({
        kind: "action",
        ...base,
        role: a.role,
        action_index: i,
        turn: 1,
        round: 1,
        messages: [{ role: "user", content: "Solve the task." }],
        reply: { role: "assistant", content: a.reply },
        model_call: {
          ok: true,
          provider: run.policy === "demo" ? "scripted" : "openai",
          model: "actor",
          usage: { prompt_tokens: 100, completion_tokens: a.reply.length },
          latency_ms: 5,
          cost_usd: run.policy === "demo" ? 0 : 0.0002,
          attempts: 1,
        },
        executions: (a.tools ?? []).map((status) => ({
          tool: "python",
          language: "python",
          code: "print(1)",
          status,
          exit_code: status === "ok" ? 0 : 1,
          signal: null,
          wall_ms: 10,
          stdout: { text: "", total_bytes: 0, truncated: false },
          stderr: { text: "", total_bytes: 0, truncated: false },
          backend: "bwrap-v1",
          files: [],
        })),
        ignored_code_blocks: 0,
        contract: contract(a.missing),
        stop_reason: "no_tool_call",
      });
      push({
        kind: "role_finished",
        ...base,
        role: a.role,
        round: 1,
        actions: 1,
        outputs: {},
        files_saved: [],
        contract: contract(a.missing),
      });
    }
    push({
      kind: "episode_finished",
      ...base,
      status: ep.status ?? "completed",
      ...(ep.error !== undefined ? { error: ep.error } : {}),
      actions: ep.actions.length,
      wall_ms: 20,
      outputs: {},
      files: {},
    });
  }
  push({
    kind: "run_finished",
    status: "completed",
    episodes: run.episodes.length,
  });
  await Deno.mkdir(join(dir, "scores"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "manifest.json"),
    JSON.stringify({
      run_id: run.run_id,
      created_at: TS,
      finished_at: "2025-01-01T00:01:00.000Z",
      status: "completed",
      policy: run.policy,
      spec_file: "pipelines/synthetic.yaml",
      spec_hash: "f".repeat(64),
      sandbox_backend: "bwrap-v1",
      summary: { wall_ms: 60000 },
      graph: run.graph,
    }),
  );
  await Deno.writeTextFile(join(dir, "events.jsonl"), lines.join("\n") + "\n");
  const graded = run.episodes.filter((e) =>
    e.success !== null || e.ungraded !== undefined
  );
  if (graded.length > 0) {
    await Deno.writeTextFile(
      join(dir, "outcomes.jsonl"),
      graded.map((e) =>
        JSON.stringify({
          episode_id: e.id,
          attempt: 1,
          success: e.success ?? false,
          metrics: { correct: e.success ? 1 : 0 },
          ...(e.ungraded !== undefined
            ? {
              ungraded: e.ungraded,
              reason: "the grader failed: disk on fire",
            }
            : {}),
        })
      )
        .join("\n") + "\n",
    );
  }
  for (const [l, layer] of run.layers.entries()) {
    const vs = run.episodes.flatMap((ep) =>
      ep.actions.map((_, i) => verdict(run, l, ep, i))
    )
      .filter((v): v is Verdict => v !== null);
    await Deno.writeTextFile(
      join(dir, "scores", `${layer.name}.jsonl`),
      vs.map((v) => JSON.stringify(v)).join("\n") + "\n",
    );
  }
}

/** A deterministic synthetic run with a coach that favours regression tasks, for screenshots. */
export function syntheticRun(episodes = 40): SyntheticRun {
  let seed = 7;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const eps: SyntheticEpisode[] = Array.from({ length: episodes }, (_, i) => {
    const category = ["regression", "classification", "time_series"][i % 3]!;
    const success = rand() < 0.55;
    const bonus = category === "regression" ? 1.2 : 0;
    const score = (role: number) =>
      Math.max(
        0,
        Math.min(
          10,
          Math.round(3 + (success ? 3 : 0) + bonus + role + rand() * 3),
        ),
      );
    const roles = ["data_engineer", "modeler", "analyst"];
    return {
      id: `eval:${i}`,
      category,
      success,
      ...(i % 13 === 5
        ? {
          status: "failed" as const,
          error: "model_error: 503 from the endpoint",
        }
        : {}),
      actions: roles.map((role, r) => {
        const s = score(r * 0.5);
        return {
          role,
          reply: "x".repeat(200 + Math.round(rand() * 1500) + s * 60),
          scores: [
            i % 11 === 3 && r === 1 ? null : s,
            Math.max(0, Math.min(10, s + Math.round(rand() * 2 - 1))),
          ],
          tools: rand() < 0.15 ? ["ok", "timeout"] : ["ok"],
          ...(role === "data_engineer" && !success && rand() < 0.4
            ? { missing: ["X_test.pkl"] }
            : {}),
        };
      }),
    };
  });
  const model = (m: string, family: string) => ({
    provider: "openai",
    model: m,
    family,
  });
  return {
    run_id: "dsbench__0__1735689600",
    policy: "model",
    graph: {
      name: "dsbench",
      models: {
        actor: model("Qwen/Qwen3-4B", "qwen"),
        coach: model("Qwen/Qwen3-235B", "qwen"),
        second: model("gpt-4o-mini", "gpt"),
      },
      roles: [{ id: "data_engineer", model: "actor" }, {
        id: "modeler",
        model: "actor",
      }, { id: "analyst", model: "actor" }],
      coach: {
        model: "coach",
        rubrics: {
          a1b2c3d4e5f6: { name: "ds_process", scale: { min: 0, max: 10 } },
        },
      },
    },
    layers: [
      {
        name: "ds_process@a1b2c3d4e5f6",
        judge: {
          kind: "llm",
          model: "coach",
          model_name: "Qwen/Qwen3-235B",
          attempts: 1,
          prompt_tokens: 900,
          completion_tokens: 120,
          cost_usd: 0.0009,
          latency_ms: 800,
        },
      },
      {
        name: "ds_process_v2@0f9e8d7c6b5a",
        judge: {
          kind: "llm",
          model: "second",
          model_name: "gpt-4o-mini",
          attempts: 1,
          prompt_tokens: 900,
          completion_tokens: 100,
          cost_usd: 0.0003,
          latency_ms: 500,
        },
      },
    ],
    episodes: eps,
  };
}
