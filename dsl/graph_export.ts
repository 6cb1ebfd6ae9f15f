import type { ExecutionGraph, GraphLoop, GraphRole } from "./graph.ts";

/** One arrow of a drawing: `after` edges and entry arrows are solid, other file flows dashed. */
interface Arrow {
  readonly from: string;
  readonly to: string;
  readonly files: readonly string[];
  readonly dashed: boolean;
}

// Prefixes keep node ids apart from each other and from keywords: a role may be named `task` or `end`.
const TASK_NODE = "t_task";

function roleNode(id: string): string {
  return `r_${id}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ");
}

function roleLines(role: GraphRole): [string, string] {
  const bits = [`${role.max_turns} turn${role.max_turns === 1 ? "" : "s"}`];
  if (role.tools.length > 0) bits.push(role.tools.join(", "));
  if (!role.trainable) bits.push("frozen");
  return [oneLine(role.name), oneLine(bits.join(" · "))];
}

function loopLabel(loop: GraphLoop): string {
  return `loop ${loop.id}: up to ${loop.max_rounds} rounds${
    loop.until ? `, until ${loop.until.role}.${loop.until.output}` : ""
  }`;
}

/**
 * The arrows of the drawing, in order: task to entry roles, `after` edges, then file flows that follow no
 * `after` edge (files skipping a role, files from a loop peer, task files for later roles). Every arrow is
 * labelled with the files whose nearest producer is its source, so each consumed file is drawn once.
 */
function arrows(graph: ExecutionGraph): Arrow[] {
  const key = (from: string, to: string) => `${from}\u0000${to}`;
  const flowFiles = new Map(
    graph.flows.map((f) => [
      key(f.from_task ? TASK_NODE : roleNode(f.from), roleNode(f.to)),
      f.files,
    ]),
  );
  const out: Arrow[] = [];
  const drawn = new Set<string>();
  const add = (from: string, to: string, dashed: boolean) => {
    const k = key(from, to);
    if (drawn.has(k)) return;
    drawn.add(k);
    out.push({ from, to, files: flowFiles.get(k) ?? [], dashed });
  };
  for (const id of graph.entry) add(TASK_NODE, roleNode(id), false);
  for (const e of graph.edges) add(roleNode(e.from), roleNode(e.to), false);
  for (const f of graph.flows) {
    add(f.from_task ? TASK_NODE : roleNode(f.from), roleNode(f.to), true);
  }
  return out;
}

/** Mermaid text inside a quoted label: characters Mermaid or its HTML labels read become entity codes. */
function mermaidText(text: string): string {
  return oneLine(text).replace(/[#"&<>|`]/g, (c) => `#${c.charCodeAt(0)};`);
}

/**
 * Mermaid flowchart of the roles: `after` edges as solid arrows and the other file flows as dotted ones,
 * each labelled with the files that flow, loop groups as subgraphs, and the task's files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "./compile.ts";
 * import { toMermaid } from "./graph_export.ts";
 * const r = compileFile("pipelines/math.yaml");
 * if (r.ok) {
 *   assert(toMermaid(r.graph).startsWith("flowchart LR"));
 *   assert(toMermaid(r.graph).includes("t_task --> r_problem_solver"));
 * }
 * ```
 */
export function toMermaid(graph: ExecutionGraph): string {
  const out = ["flowchart LR"];
  const node = (role: GraphRole) => {
    const [name, facts] = roleLines(role);
    return `${roleNode(role.id)}["${mermaidText(name)}<br/>${
      mermaidText(facts)
    }"]`;
  };
  const byId = new Map(graph.roles.map((r) => [r.id, r]));
  const inLoop = new Set(graph.loops.flatMap((l) => l.roles));
  out.push(
    `  ${TASK_NODE}(["${mermaidText(`task ${graph.dataset.default_split}`)}"])`,
  );
  for (const loop of graph.loops) {
    out.push(`  subgraph l_${loop.id}["${mermaidText(loopLabel(loop))}"]`);
    for (const id of loop.roles) out.push(`    ${node(byId.get(id)!)}`);
    out.push("  end");
  }
  for (const r of graph.roles) if (!inLoop.has(r.id)) out.push(`  ${node(r)}`);
  for (const a of arrows(graph)) {
    const link = a.dashed ? "-.->" : "-->";
    out.push(
      a.files.length > 0
        ? `  ${a.from} ${link}|"${mermaidText(a.files.join(", "))}"| ${a.to}`
        : `  ${a.from} ${link} ${a.to}`,
    );
  }
  return out.join("\n") + "\n";
}

/** A DOT quoted string: backslash, quote and line breaks escaped, so labels never read as escapes. */
function dotString(text: string): string {
  return `"${
    text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n|\r/g, "\\n")
  }"`;
}

/**
 * Graphviz DOT of the same graph: `after` edges solid, other file flows dashed, loop groups as clusters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "./compile.ts";
 * import { toDot } from "./graph_export.ts";
 * const r = compileFile("pipelines/math.yaml");
 * if (r.ok) assert(toDot(r.graph).startsWith("digraph"));
 * ```
 */
export function toDot(graph: ExecutionGraph): string {
  const out = [
    `digraph ${dotString(graph.name)} {`,
    "  rankdir=LR;",
    "  node [shape=box];",
    `  ${dotString(TASK_NODE)} [shape=oval, label=${
      dotString(`task ${oneLine(graph.dataset.default_split)}`)
    }];`,
  ];
  const node = (role: GraphRole) =>
    `${dotString(roleNode(role.id))} [label=${
      dotString(roleLines(role).join("\n"))
    }];`;
  const byId = new Map(graph.roles.map((r) => [r.id, r]));
  const inLoop = new Set(graph.loops.flatMap((l) => l.roles));
  for (const loop of graph.loops) {
    out.push(
      `  subgraph ${dotString(`cluster_${loop.id}`)} {`,
      `    label=${dotString(loopLabel(loop))};`,
    );
    for (const id of loop.roles) out.push(`    ${node(byId.get(id)!)}`);
    out.push("  }");
  }
  for (const r of graph.roles) if (!inLoop.has(r.id)) out.push(`  ${node(r)}`);
  for (const a of arrows(graph)) {
    const attrs = [
      ...(a.files.length > 0 ? [`label=${dotString(a.files.join(", "))}`] : []),
      ...(a.dashed ? ["style=dashed"] : []),
    ];
    out.push(
      `  ${dotString(a.from)} -> ${dotString(a.to)}${
        attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""
      };`,
    );
  }
  out.push("}");
  return out.join("\n") + "\n";
}
