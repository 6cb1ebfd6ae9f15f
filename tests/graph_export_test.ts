import assert from "node:assert/strict";
import {
  compile,
  compileFile,
  type CompileResult,
  type ExecutionGraph,
  toDot,
  toMermaid,
} from "../dsl/mod.ts";

function graphOf(result: CompileResult): ExecutionGraph {
  assert.ok(
    result.ok,
    result.ok ? "" : JSON.stringify(result.diagnostics, null, 2),
  );
  return result.graph;
}

function compileLines(lines: readonly string[]): ExecutionGraph {
  return graphOf(compile(lines.join("\n") + "\n", {
    file: "case.yaml",
    env: () => undefined,
    fileExists: () => true,
  }));
}

function text(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

const HEAD = [
  "version: 1",
  "name: case",
  "models:",
  "  actor: { model: demo-model }",
];

// A URL split and one task file, input.csv.
const DATASET = [
  "dataset:",
  "  splits:",
  "    test: https://example.com/test.jsonl",
  "  fields:",
  "    inputs:",
  "      problem: question",
  "  files:",
  '    - { path: "files/input.csv", as: input.csv }',
];

function roleLines(
  id: string,
  fields: { after?: string; consumes?: string; produces?: string } = {},
): string[] {
  return [
    `  - id: ${id}`,
    `    description: Role ${id}`,
    "    model: actor",
    ...(fields.after ? [`    after: ${fields.after}`] : []),
    ...(fields.consumes ? [`    consumes: ${fields.consumes}`] : []),
    ...(fields.produces ? [`    produces: ${fields.produces}`] : []),
    '    prompts: { user: "{{ task.problem }}" }',
  ];
}

// Roles named like the task node and like Mermaid's `end` keyword, with a name full of markup.
const KEYWORD_ROLES = [
  ...HEAD,
  "roles:",
  ...roleLines("task", { consumes: "[input.csv]", produces: "[notes.md]" }),
  `    name: 'Task "A" <b>#1</b> | x'`,
  ...roleLines("end", {
    after: "[task]",
    consumes: "[notes.md, input.csv]",
  }),
  ...DATASET,
];

Deno.test("toMermaid() draws dsbench's after edges solid and the files that skip a role dotted", () => {
  const g = graphOf(compileFile("pipelines/dsbench.yaml"));
  assert.equal(
    toMermaid(g),
    text(
      "flowchart LR",
      '  t_task(["task eval"])',
      '  r_data_engineer["Data Engineer<br/>4 turns · python"]',
      '  r_modeler["Modeler<br/>4 turns · python"]',
      '  r_analyst["Analyst<br/>4 turns · python"]',
      '  t_task -->|"train.csv, test.csv"| r_data_engineer',
      '  r_data_engineer -->|"X_train.pkl, y_train.pkl"| r_modeler',
      '  r_modeler -->|"model.pkl"| r_analyst',
      '  t_task -.->|"test.csv"| r_analyst',
      '  r_data_engineer -.->|"X_test.pkl"| r_analyst',
    ),
  );
});

Deno.test("toDot() draws dsbench's file flows off the after edges dashed", () => {
  const g = graphOf(compileFile("pipelines/dsbench.yaml"));
  assert.equal(
    toDot(g),
    text(
      'digraph "dsbench" {',
      "  rankdir=LR;",
      "  node [shape=box];",
      '  "t_task" [shape=oval, label="task eval"];',
      '  "r_data_engineer" [label="Data Engineer\\n4 turns · python"];',
      '  "r_modeler" [label="Modeler\\n4 turns · python"];',
      '  "r_analyst" [label="Analyst\\n4 turns · python"];',
      '  "t_task" -> "r_data_engineer" [label="train.csv, test.csv"];',
      '  "r_data_engineer" -> "r_modeler" [label="X_train.pkl, y_train.pkl"];',
      '  "r_modeler" -> "r_analyst" [label="model.pkl"];',
      '  "t_task" -> "r_analyst" [label="test.csv", style=dashed];',
      '  "r_data_engineer" -> "r_analyst" [label="X_test.pkl", style=dashed];',
      "}",
    ),
  );
});

Deno.test("toMermaid() and toDot() draw debate's loop group as a subgraph and a cluster", () => {
  const g = graphOf(compileFile("pipelines/debate.yaml"));
  assert.equal(
    toMermaid(g),
    text(
      "flowchart LR",
      '  t_task(["task eval"])',
      '  subgraph l_rounds["loop rounds: up to 3 rounds"]',
      '    r_proponent["Proponent<br/>1 turn"]',
      '    r_opponent["Opponent<br/>1 turn"]',
      "  end",
      '  r_judge["Judge<br/>1 turn · frozen"]',
      "  t_task --> r_proponent",
      "  r_proponent --> r_opponent",
      "  r_opponent --> r_judge",
    ),
  );
  assert.equal(
    toDot(g),
    text(
      'digraph "debate" {',
      "  rankdir=LR;",
      "  node [shape=box];",
      '  "t_task" [shape=oval, label="task eval"];',
      '  subgraph "cluster_rounds" {',
      '    label="loop rounds: up to 3 rounds";',
      '    "r_proponent" [label="Proponent\\n1 turn"];',
      '    "r_opponent" [label="Opponent\\n1 turn"];',
      "  }",
      '  "r_judge" [label="Judge\\n1 turn · frozen"];',
      '  "t_task" -> "r_proponent";',
      '  "r_proponent" -> "r_opponent";',
      '  "r_opponent" -> "r_judge";',
      "}",
    ),
  );
});

Deno.test("toMermaid() keeps roles named task and end apart from the task node and the end keyword", () => {
  const g = compileLines(KEYWORD_ROLES);
  assert.deepEqual(g.flows, [
    { from: "task", from_task: true, to: "task", files: ["input.csv"] },
    { from: "task", from_task: true, to: "end", files: ["input.csv"] },
    { from: "task", from_task: false, to: "end", files: ["notes.md"] },
  ]);
  assert.equal(
    toMermaid(g),
    text(
      "flowchart LR",
      '  t_task(["task test"])',
      '  r_task["Task #34;A#34; #60;b#62;#35;1#60;/b#62; #124; x<br/>1 turn"]',
      '  r_end["end<br/>1 turn"]',
      '  t_task -->|"input.csv"| r_task',
      '  r_task -->|"notes.md"| r_end',
      '  t_task -.->|"input.csv"| r_end',
    ),
  );
});

Deno.test("toDot() keeps a role named task apart from the task node and escapes its label", () => {
  const g = compileLines(KEYWORD_ROLES);
  assert.equal(
    toDot(g),
    text(
      'digraph "case" {',
      "  rankdir=LR;",
      "  node [shape=box];",
      '  "t_task" [shape=oval, label="task test"];',
      '  "r_task" [label="Task \\"A\\" <b>#1</b> | x\\n1 turn"];',
      '  "r_end" [label="end\\n1 turn"];',
      '  "t_task" -> "r_task" [label="input.csv"];',
      '  "r_task" -> "r_end" [label="notes.md"];',
      '  "t_task" -> "r_end" [label="input.csv", style=dashed];',
      "}",
    ),
  );
});

Deno.test("compile() takes each flowing file from its nearest producers, and from loop peers' last round", () => {
  const g = compileLines([
    ...HEAD,
    "roles:",
    ...roleLines("a", { produces: '[data.pkl, "logs/*.txt"]' }),
    ...roleLines("b", { after: "[a]", produces: "[data.pkl]" }),
    ...roleLines("c", {
      after: "[a, b]",
      consumes: "[data.pkl, logs/run.txt]",
      produces: "[draft.md]",
    }),
    ...roleLines("p", {
      after: "[c]",
      consumes: "[draft.md, input.csv]",
      produces: "[review.md]",
    }),
    ...roleLines("q", {
      after: "[p]",
      consumes: "[review.md]",
      produces: "[draft.md]",
    }),
    "flow:",
    "  loops:",
    "    - { id: end, roles: [p, q], max_rounds: 2 }",
    ...DATASET,
  ]);
  // `edges` keep every file a direct `after` parent produces; b shadows a's data.pkl in `flows`.
  assert.deepEqual(g.edges.find((e) => e.from === "a" && e.to === "c"), {
    from: "a",
    to: "c",
    files: ["data.pkl", "logs/run.txt"],
  });
  assert.deepEqual(g.flows, [
    { from: "a", from_task: false, to: "c", files: ["logs/run.txt"] },
    { from: "b", from_task: false, to: "c", files: ["data.pkl"] },
    { from: "task", from_task: true, to: "p", files: ["input.csv"] },
    { from: "c", from_task: false, to: "p", files: ["draft.md"] },
    { from: "q", from_task: false, to: "p", files: ["draft.md"] },
    { from: "p", from_task: false, to: "q", files: ["review.md"] },
  ]);
  assert.equal(
    toMermaid(g),
    text(
      "flowchart LR",
      '  t_task(["task test"])',
      '  subgraph l_end["loop end: up to 2 rounds"]',
      '    r_p["p<br/>1 turn"]',
      '    r_q["q<br/>1 turn"]',
      "  end",
      '  r_a["a<br/>1 turn"]',
      '  r_b["b<br/>1 turn"]',
      '  r_c["c<br/>1 turn"]',
      "  t_task --> r_a",
      "  r_a --> r_b",
      '  r_a -->|"logs/run.txt"| r_c',
      '  r_b -->|"data.pkl"| r_c',
      '  r_c -->|"draft.md"| r_p',
      '  r_p -->|"review.md"| r_q',
      '  t_task -.->|"input.csv"| r_p',
      '  r_q -.->|"draft.md"| r_p',
    ),
  );
});
