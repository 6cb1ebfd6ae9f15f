import type { ExecutionGraph } from "./graph.ts";

function label(text: string): string {
  return text.replace(/"/g, "'").replace(/[\r\n]+/g, " ");
}

function roleLabel(graph: ExecutionGraph, id: string): string {
  const role = graph.roles.find((r) => r.id === id)!;
  const bits = [`${role.max_turns} turn${role.max_turns === 1 ? "" : "s"}`];
  if (role.tools.length > 0) bits.push(role.tools.join(", "));
  if (!role.trainable) bits.push("frozen");
  return `${label(role.name)}<br/>${bits.join(" · ")}`;
}

/**
 * Mermaid flowchart of the roles, `after` edges labelled with the files that flow, loop groups as
 * subgraphs, and task-provided input files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFile } from "./compile.ts";
 * import { toMermaid } from "./graph_export.ts";
 * const r = compileFile("pipelines/math.yaml");
 * if (r.ok) assert(toMermaid(r.graph).startsWith("flowchart LR"));
 * ```
 */
export function toMermaid(graph: ExecutionGraph): string {
  const out = ["flowchart LR"];
  const inLoop = new Set(graph.loops.flatMap((l) => l.roles));
  out.push(`  task(["task ${label(graph.dataset.default_split)}"])`);
  for (const loop of graph.loops) {
    out.push(
      `  subgraph ${loop.id}["loop ${loop.id}: up to ${loop.max_rounds} rounds${
        loop.until ? `, until ${loop.until.role}.${loop.until.output}` : ""
      }"]`,
    );
    for (const id of loop.roles) {
      out.push(`    ${id}["${roleLabel(graph, id)}"]`);
    }
    out.push("  end");
  }
  for (const r of graph.roles) {
    if (!inLoop.has(r.id)) out.push(`  ${r.id}["${roleLabel(graph, r.id)}"]`);
  }
  const taskFiles = graph.dataset.files.map((f) => f.as);
  for (const id of graph.entry) {
    const role = graph.roles.find((r) => r.id === id)!;
    const files = role.consumes.filter((c) => taskFiles.includes(c));
    out.push(
      files.length > 0
        ? `  task -->|"${label(files.join(", "))}"| ${id}`
        : `  task --> ${id}`,
    );
  }
  for (const e of graph.edges) {
    out.push(
      e.files.length > 0
        ? `  ${e.from} -->|"${label(e.files.join(", "))}"| ${e.to}`
        : `  ${e.from} --> ${e.to}`,
    );
  }
  return out.join("\n") + "\n";
}

/**
 * Graphviz DOT of the same graph.
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
  const q = (s: string) =>
    `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  const out = [
    `digraph ${q(graph.name)} {`,
    "  rankdir=LR;",
    "  node [shape=box];",
    `  task [shape=oval, label=${q("task")}];`,
  ];
  const inLoop = new Set(graph.loops.flatMap((l) => l.roles));
  const nodeLabel = (id: string) => roleLabel(graph, id).replace("<br/>", "\n");
  for (const loop of graph.loops) {
    out.push(
      `  subgraph ${q(`cluster_${loop.id}`)} {`,
      `    label=${q(`loop ${loop.id}: up to ${loop.max_rounds} rounds`)};`,
    );
    for (const id of loop.roles) {
      out.push(`    ${q(id)} [label=${q(nodeLabel(id))}];`);
    }
    out.push("  }");
  }
  for (const r of graph.roles) {
    if (!inLoop.has(r.id)) {
      out.push(`  ${q(r.id)} [label=${q(nodeLabel(r.id))}];`);
    }
  }
  for (const id of graph.entry) out.push(`  task -> ${q(id)};`);
  for (const e of graph.edges) {
    out.push(
      `  ${q(e.from)} -> ${q(e.to)}${
        e.files.length > 0 ? ` [label=${q(e.files.join(", "))}]` : ""
      };`,
    );
  }
  out.push("}");
  return out.join("\n") + "\n";
}
