import { Liquid, type Template } from "liquidjs";
import type { ExecutionGraph, GraphRole } from "../dsl/mod.ts";
import type { Task } from "./load_tasks.ts";
import type { RoleResult } from "./role_result.ts";

const engine = new Liquid({ strictFilters: true });
const cache = new Map<string, Template[]>();

/** Renders a Liquid template (parsed once per text) with the given variables. */
export function renderTemplate(
  text: string,
  vars: Record<string, unknown>,
): string {
  let parsed = cache.get(text);
  if (!parsed) {
    parsed = engine.parse(text);
    cache.set(text, parsed);
  }
  return engine.renderSync(parsed, vars) as string;
}

/** What a role is shown of one upstream role, limited to the items its `sees` declares. */
function handoff(
  result: RoleResult,
  items: readonly string[],
  strip: boolean,
  upstream: GraphRole,
) {
  const out: Record<string, unknown> = {
    role: {
      id: upstream.id,
      name: upstream.name,
      description: upstream.description,
    },
  };
  for (const item of items) {
    switch (item) {
      case "final_text":
        out.final_text = strip ? result.final_text : result.final_raw;
        break;
      case "all_actions":
        out.all_actions = result.actions.map((a) => ({
          turn: a.turn,
          round: a.round,
          output: strip
            ? a.output
            : [a.reasoning && `<think>${a.reasoning}</think>`, a.output].join(
              "",
            ),
          observations: a.observations,
        }));
        break;
      case "tool_outputs":
        out.tool_outputs = result.tool_outputs;
        break;
      case "last_tool_output":
        out.last_tool_output = result.last_tool_output ?? "";
        break;
      case "files":
        out.files = result.files;
        break;
      case "outputs":
        out.outputs = result.outputs;
        break;
    }
  }
  return out;
}

/** The variables of a role's prompt templates (the shapes `dsl/template_context.ts` checks at compile time). */
export function promptVariables(
  graph: ExecutionGraph,
  role: GraphRole,
  task: Task,
  results: ReadonlyMap<string, RoleResult>,
  state: {
    files: readonly string[];
    missing_inputs: readonly string[];
    turn: number;
    round: number;
  },
): Record<string, unknown> {
  const upstream: Record<string, unknown> = {};
  const handoffs: unknown[] = [];
  for (const [id, items] of Object.entries(role.sees)) {
    const result = results.get(id);
    const up = graph.roles.find((r) => r.id === id);
    if (!result || !up) continue; // a loop peer before its first round: nothing to see yet
    const h = handoff(result, items, role.strip_reasoning, up);
    upstream[id] = h;
    handoffs.push(h);
  }
  const loop = role.loop === undefined
    ? undefined
    : graph.loops.find((l) => l.id === role.loop);
  return {
    pipeline: {
      name: graph.name,
      description: graph.description ?? "",
      roles: graph.roles.map((r) => r.name),
    },
    task: { id: task.id, category: task.category, ...task.inputs },
    role: {
      id: role.id,
      name: role.name,
      description: role.description,
      max_turns: role.max_turns,
      tools: role.tools,
      produces: role.produces.map((p) => p.path),
      consumes: role.consumes,
    },
    upstream,
    handoffs,
    files: state.files,
    missing_inputs: state.missing_inputs,
    turn: state.turn,
    ...(loop ? { round: state.round, max_rounds: loop.max_rounds } : {}),
  };
}
