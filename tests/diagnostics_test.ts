import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  compareDiagnostics,
  compile,
  compileFile,
  compileModule,
  type CompileOptions,
  type CompileResult,
  type Diagnostic,
  DIAGNOSTIC_CODES,
  type DiagnosticCode,
  type ExecutionGraph,
  SPEC_BUDGETS,
} from "../dsl/mod.ts";
import { SpecFileError } from "../dsl/read_spec_file.ts";

// Specs are arrays of lines so a position is easy to check by hand: line N is element N - 1.
const HEAD = [
  "version: 1",
  "name: demo",
  "models:",
  "  actor: { model: demo-model }",
];

// Lines 5-10 right after HEAD.
const SOLVER = [
  "roles:",
  "  - id: solver",
  "    description: Solves the problem",
  "    model: actor",
  "    prompts:",
  '      user: "Solve: {{ task.problem }}"',
];

// A URL split, so no missing_dataset_file warning joins the errors under test.
const DATASET = [
  "dataset:",
  "  splits:",
  "    test: https://example.com/test.jsonl",
  "  fields:",
  "    inputs:",
  "      problem: question",
];

const ENV = (name: string): string | undefined =>
  name === "MAPPA_TEST_SET" ? "1" : undefined;

type Files = Readonly<Record<string, string>>;

function run(
  spec: readonly string[],
  files: Files = {},
  options: Omit<CompileOptions, "file" | "readFile" | "fileExists"> = {},
  read?: (path: string) => string,
): CompileResult {
  return compile(spec.join("\n") + "\n", {
    file: "case.yaml",
    env: ENV,
    readFile: read ?? ((path) => {
      if (Object.hasOwn(files, path)) return files[path]!;
      throw new Deno.errors.NotFound(`No such file: ${path}`);
    }),
    fileExists: (path) => Object.hasOwn(files, path),
    ...options,
  });
}

function diagnosticsOf(result: CompileResult): readonly Diagnostic[] {
  return result.ok ? result.warnings : result.diagnostics;
}

interface Where {
  readonly code: DiagnosticCode;
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
}

function where(d: Diagnostic): Where {
  return {
    code: d.code,
    file: d.file,
    line: d.position?.line,
    column: d.position?.column,
  };
}

function at(
  code: DiagnosticCode,
  line: number | undefined,
  column: number | undefined,
  file = "case.yaml",
): Where {
  return { code, file, line, column };
}

function relatedOf(d: Diagnostic | undefined) {
  return (d?.related ?? []).map((r) => ({
    file: r.file,
    line: r.position?.line,
    column: r.position?.column,
  }));
}

function graphOf(result: CompileResult): ExecutionGraph {
  if (!result.ok) {
    assert.fail(
      `expected the spec to compile, got ${
        result.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")
      }`,
    );
  }
  return result.graph;
}

interface Case {
  readonly code: DiagnosticCode;
  readonly name: string;
  readonly spec: readonly string[];
  readonly files?: Files;
  /** A TS spec module (path from the repository root): the case imports it with compileModule instead. */
  readonly module?: string;
  /** Reads files instead of `files`, to fail the way the compiler's reader does. */
  readonly read?: (path: string) => string;
  readonly expect: readonly Where[];
  /** Further assertions on the diagnostics (hints, related locations, key paths). */
  readonly also?: (ds: readonly Diagnostic[], result: CompileResult) => void;
}

const ROLES_101 = Array.from(
  { length: 101 },
  (_, i) =>
    `  - { id: r${
      String(i + 1).padStart(3, "0")
    }, description: d, model: nope, prompts: { user: hi } }`,
);

const CASES: readonly Case[] = [
  {
    code: "file_not_found",
    name: "compile() reports a missing file:// include at the include",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://prompts/solver.md",
      ...DATASET,
    ],
    expect: [at("file_not_found", 10, 13)],
    also: (ds) => {
      assert.deepEqual(ds[0]!.path, ["roles", 0, "prompts", "user"]);
      assert.match(ds[0]!.message, /"prompts\/solver\.md": no such file$/);
    },
  },
  {
    code: "file_is_directory",
    name: "compile() reports a file:// include of a directory at the include",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://prompts",
      ...DATASET,
    ],
    read: (path) => {
      throw new SpecFileError(
        "file_is_directory",
        `${path}: it is a directory`,
      );
    },
    expect: [at("file_is_directory", 10, 13)],
  },
  {
    code: "file_too_large",
    name: "compile() reports an include over 1 MiB at the include",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://big.md",
      ...DATASET,
    ],
    files: { "big.md": "x".repeat(SPEC_BUDGETS.fileBytes + 1) },
    expect: [at("file_too_large", 10, 13)],
  },
  {
    code: "file_not_text",
    name:
      "compile() reports a bad byte at its line and column in the included file",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://bad.md",
      ...DATASET,
    ],
    read: () => {
      throw new SpecFileError("file_not_text", "it is not UTF-8 text", {
        text: "ok\nR\ufffdsum\ufffd\n",
        offset: 4,
      });
    },
    expect: [at("file_not_text", 2, 2, "bad.md")],
    also: (ds) => {
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 10, column: 13 },
      ]);
    },
  },
  {
    code: "over_budget",
    name:
      "compile() refuses lists nested 300 deep before parsing, at the bracket past the budget",
    spec: [
      ...HEAD,
      ...SOLVER,
      ...DATASET,
      `x: ${"[".repeat(300)}${"]".repeat(300)}`,
    ],
    expect: [at("over_budget", 17, 259)],
  },
  {
    code: "yaml_syntax",
    name:
      'compile() reports an unquoted ": " in a value as a YAML syntax error',
    spec: [
      ...HEAD,
      "roles:",
      "  - id: solver",
      "    description: Solves the problem: step by step",
      ...SOLVER.slice(3),
      ...DATASET,
    ],
    expect: [at("yaml_syntax", 7, 18)],
  },
  {
    code: "duplicate_key",
    name:
      "compile() reports a duplicate key at the second key with the first as related",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    model: actor",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("duplicate_key", 9, 5)],
    also: (ds) => {
      assert.deepEqual(ds[0]!.path, ["roles", 0, "model"]);
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 8, column: 5 },
      ]);
    },
  },
  {
    code: "include_cycle",
    name: "compile() reports an extends cycle at the extends that closes it",
    spec: ["extends: base.yaml", ...HEAD, ...SOLVER, ...DATASET],
    files: { "base.yaml": "description: A base\nextends: case.yaml\n" },
    expect: [at("include_cycle", 2, 10, "base.yaml")],
    also: (ds) => {
      assert.match(ds[0]!.message, /case\.yaml -> base\.yaml -> case\.yaml$/);
      // The base's keys merge at the root, so its own extends is at "extends", not "extends.extends".
      assert.deepEqual(ds[0]!.path, ["extends"]);
    },
  },
  {
    code: "invalid_include",
    name: "compile() reports a non-string extends item at the item",
    spec: ["extends: [base.yaml, 7]", ...HEAD, ...SOLVER, ...DATASET],
    files: { "base.yaml": "description: A base\n" },
    expect: [at("invalid_include", 1, 22)],
    also: (ds) => assert.deepEqual(ds[0]!.path, ["extends", 1]),
  },
  {
    code: "invalid_module",
    name:
      "compileModule() reports a TS spec's syntax error at its line and column",
    spec: [],
    module: "tests/spec_errors/invalid_module.ts",
    expect: [at("invalid_module", 5, 3, "tests/spec_errors/invalid_module.ts")],
    also: (ds) =>
      assert.match(ds[0]!.message, /SyntaxError: Expected ',', got 'models'$/),
  },
  {
    code: "include_outside_folder",
    name:
      "compile() refuses an include outside the spec's folder, at the include",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://../shared/solver.md",
      ...DATASET,
    ],
    files: { "../shared/solver.md": "Solve: {{ task.problem }}" },
    expect: [at("include_outside_folder", 10, 13)],
    also: (ds, result) => {
      assert.equal(result.ok, false);
      assert.equal(ds[0]!.severity, "error");
    },
  },
  {
    code: "undefined_env_var",
    name: "compile() reports an unset ${env.NAME} without a default at the ${",
    spec: [
      ...HEAD.slice(0, 3),
      '  actor: { model: "${env.MAPPA_TEST_UNSET}" }',
      ...SOLVER,
      ...DATASET,
    ],
    expect: [at("undefined_env_var", 4, 20)],
    also: (ds) =>
      assert.equal(
        ds[0]!.hint,
        "export MAPPA_TEST_UNSET=..., or give a default: ${env.MAPPA_TEST_UNSET:-value}",
      ),
  },
  {
    code: "invalid_interpolation",
    name: "compile() reports ${NAME} without env. at the ${",
    spec: [
      ...HEAD.slice(0, 3),
      '  actor: { model: demo-model, base_url: "http://${HOST}/v1" }',
      ...SOLVER,
      ...DATASET,
    ],
    expect: [at("invalid_interpolation", 4, 49)],
    also: (ds) => assert.equal(ds[0]!.hint, "write $${ for a literal ${"),
  },
  {
    code: "invalid_type",
    name: "compile() reports a string max_turns at the value",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    max_turns: three",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("invalid_type", 9, 16)],
  },
  {
    code: "missing_key",
    name:
      "compile() reports missing required keys at the nearest existing ancestor",
    // No description on the role (reported at its item) and no dataset (reported at the root).
    spec: [...HEAD, "roles:", "  - id: solver", ...SOLVER.slice(3)],
    expect: [at("missing_key", 1, 1), at("missing_key", 6, 5)],
    also: (ds) => {
      assert.deepEqual(ds.map((d) => d.path), [
        ["dataset"],
        ["roles", 0, "description"],
      ]);
      assert.equal(ds[1]!.hint, "add description: ...");
    },
  },
  {
    code: "unrecognized_keys",
    name:
      "compile() reports an unknown key at the key with a did-you-mean hint",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    max_turn: 3",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("unrecognized_keys", 9, 5)],
    also: (ds) => {
      assert.equal(ds[0]!.hint, 'did you mean "max_turns"?');
      assert.deepEqual(ds[0]!.path, ["roles", 0, "max_turn"]);
    },
  },
  {
    code: "invalid_value",
    name: "compile() reports a value outside an enum or literal at the value",
    spec: [
      "version: 2",
      ...HEAD.slice(1, 3),
      "  actor: { provider: opnai, model: demo-model }",
      ...SOLVER,
      ...DATASET,
    ],
    expect: [at("invalid_value", 1, 10), at("invalid_value", 4, 22)],
    also: (ds) => assert.equal(ds[1]!.hint, 'did you mean "openai"?'),
  },
  {
    code: "too_small",
    name: "compile() reports a negative max_turns at the value",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    max_turns: -3",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("too_small", 9, 16)],
  },
  {
    code: "too_big",
    name: "compile() reports a temperature above 2 at the value",
    spec: [
      ...HEAD.slice(0, 3),
      "  actor: { model: demo-model, sampling: { temperature: 3.5 } }",
      ...SOLVER,
      ...DATASET,
    ],
    expect: [at("too_big", 4, 56)],
    also: (ds) =>
      assert.deepEqual(ds[0]!.path, [
        "models",
        "actor",
        "sampling",
        "temperature",
      ]),
  },
  {
    code: "invalid_format",
    name: "compile() reports a role id with a dash at the id",
    spec: [
      ...HEAD,
      "roles:",
      "  - id: problem-solver",
      ...SOLVER.slice(2),
      ...DATASET,
    ],
    expect: [at("invalid_format", 6, 9)],
  },
  {
    code: "duplicate_id",
    name: "compile() reports duplicate role ids at both locations",
    spec: [
      ...HEAD,
      ...SOLVER,
      "  - id: solver",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      ...DATASET,
    ],
    expect: [at("duplicate_id", 11, 9)],
    also: (ds) =>
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 6, column: 9 },
      ]),
  },
  {
    code: "unknown_role",
    name:
      "compile() reports an unknown after role with a did-you-mean hint, and not as unreachable",
    spec: [
      ...HEAD,
      ...SOLVER,
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solvr]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      ...DATASET,
    ],
    expect: [at("unknown_role", 14, 13)],
    also: (ds) => assert.equal(ds[0]!.hint, 'did you mean "solver"?'),
  },
  {
    code: "unknown_model",
    name: "compile() reports a role's unknown model with a did-you-mean hint",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 3),
      "    model: acter",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("unknown_model", 8, 12)],
    also: (ds) => assert.equal(ds[0]!.hint, 'did you mean "actor"?'),
  },
  {
    code: "unknown_tool",
    name: "compile() reports a role's unknown tool at the list item",
    spec: [
      ...HEAD,
      "tools:",
      "  python: { language: python }",
      ...SOLVER.slice(0, 4),
      "    tools: [pyhton]",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("unknown_tool", 11, 13)],
    also: (ds) => assert.equal(ds[0]!.hint, 'did you mean "python"?'),
  },
  {
    code: "unknown_split",
    name: "compile() reports an unknown default_split at the value",
    spec: [
      ...HEAD,
      ...SOLVER,
      ...DATASET.slice(0, 3),
      "  default_split: tset",
      ...DATASET.slice(3),
    ],
    expect: [at("unknown_split", 14, 18)],
    also: (ds) => assert.equal(ds[0]!.hint, 'valid splits: "test"'),
  },
  {
    code: "flow_cycle",
    name: "compile() reports an after cycle once, printing the whole cycle",
    spec: [
      ...HEAD,
      "roles:",
      "  - id: planner",
      "    description: Plans the solution",
      "    model: actor",
      "    after: [checker]",
      "    prompts:",
      '      user: "Plan: {{ task.problem }}"',
      "  - id: solver",
      "    description: Solves the problem",
      "    model: actor",
      "    after: [planner]",
      "    prompts:",
      '      user: "Solve: {{ task.problem }}"',
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      ...DATASET,
    ],
    expect: [at("flow_cycle", 15, 13)],
    also: (ds) => {
      assert.match(
        ds[0]!.message,
        /planner -> solver -> checker -> planner$/,
      );
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 21, column: 12 },
        { file: "case.yaml", line: 9, column: 12 },
      ]);
    },
  },
  {
    code: "unreachable_role",
    name: "compile() reports a role no entry role leads to at its id",
    spec: [
      ...HEAD,
      ...SOLVER,
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      "flow:",
      "  entry: [solver]",
      ...DATASET,
    ],
    expect: [at("unreachable_role", 11, 9)],
    also: (ds) =>
      assert.equal(
        ds[0]!.hint,
        'add "checker" to flow.entry, or give it an "after" list',
      ),
  },
  {
    code: "unbounded_loop",
    name: "compile() reports a loop without max_rounds at the loop",
    spec: [
      ...HEAD,
      "roles:",
      "  - id: proponent",
      "    description: Argues for the claim",
      "    model: actor",
      "    prompts:",
      '      user: "Argue for: {{ task.problem }}"',
      "  - id: opponent",
      "    description: Argues against the claim",
      "    model: actor",
      "    after: [proponent]",
      "    prompts:",
      '      user: "Argue against: {{ task.problem }}"',
      "flow:",
      "  loops:",
      "    - id: rounds",
      "      roles: [proponent, opponent]",
      ...DATASET,
    ],
    expect: [at("unbounded_loop", 19, 7)],
  },
  {
    code: "invalid_loop",
    name:
      "compile() reports a loop whose members are split by a role outside it",
    spec: [
      ...HEAD,
      "roles:",
      "  - { id: a, description: A, model: actor, prompts: { user: hi } }",
      "  - { id: b, description: B, model: actor, after: [a], prompts: { user: hi } }",
      "  - { id: c, description: C, model: actor, after: [b], prompts: { user: hi } }",
      "flow:",
      "  loops:",
      "    - { id: rounds, roles: [a, c], max_rounds: 2 }",
      ...DATASET,
    ],
    expect: [at("invalid_loop", 11, 28)],
    also: (ds) =>
      assert.equal(
        ds[0]!.hint,
        'add "b" to the loop\'s roles, or change the after edges',
      ),
  },
  {
    code: "unproduced_input",
    name:
      "compile() reports a consumed file no upstream role produces, naming the role that does",
    spec: [
      ...HEAD,
      ...SOLVER,
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver]",
      "    consumes: [plan.md]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      "  - id: planner",
      "    description: Plans the solution",
      "    model: actor",
      "    produces: [plan.md]",
      "    prompts:",
      '      user: "Plan: {{ task.problem }}"',
      ...DATASET,
    ],
    expect: [at("unproduced_input", 15, 16)],
    also: (ds) => {
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 21, column: 15 },
      ]);
      assert.equal(ds[0]!.hint, 'declare role "checker" after: [planner]');
    },
  },
  {
    code: "handoff_not_upstream",
    name: "compile() reports sees of a downstream role at the sees key",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    sees:",
      "      checker: [final_text]",
      ...SOLVER.slice(4),
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      ...DATASET,
    ],
    expect: [at("handoff_not_upstream", 10, 7)],
  },
  {
    code: "template_syntax",
    name:
      "compile() reports an unclosed Liquid tag inside a block scalar at the tag",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: |",
      "        Solve: {{ task.problem }}",
      "        {% if turn > 1 %}Try again.",
      ...DATASET,
    ],
    expect: [at("template_syntax", 12, 9)],
  },
  {
    code: "unknown_template_variable",
    name:
      "compile() reports unknown template variables inline and in file:// prompts at the variable",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://prompts/solver.md",
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver]",
      "    prompts:",
      '      user: "Check: {{ task.answer }}"',
      ...DATASET,
    ],
    files: {
      "prompts/solver.md":
        "You are a careful problem solver.\n\nProblem: {{ task.problme }}\n",
    },
    expect: [
      at("unknown_template_variable", 16, 24),
      at("unknown_template_variable", 3, 13, "prompts/solver.md"),
    ],
    also: (ds) => {
      assert.match(ds[0]!.hint!, /^the expected answer reaches only the coach/);
      assert.equal(ds[1]!.hint, 'did you mean "problem"?');
      assert.deepEqual(ds[1]!.path, ["roles", 0, "prompts", "user"]);
    },
  },
  {
    code: "outcome_not_visible",
    name: "compile() reports outcome facts in an agent prompt at the variable",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      '      user: "Solve: {{ task.problem }} (expected: {{ outcome.expected }})"',
      ...DATASET,
    ],
    expect: [at("outcome_not_visible", 10, 54)],
  },
  {
    code: "unknown_output",
    name:
      "compile() reports an undeclared output in the outcome with the declared outputs as related",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    outputs:",
      "      answer: { extract: last_boxed }",
      ...SOLVER.slice(4),
      ...DATASET,
      "outcome:",
      "  grader: exact_match",
      "  params:",
      "    answer: solver.answr",
    ],
    expect: [at("unknown_output", 22, 13)],
    also: (ds) => {
      assert.equal(ds[0]!.hint, 'did you mean "answer"?');
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 10, column: 7 },
      ]);
    },
  },
  {
    code: "unknown_metric",
    name: "compile() reports a success metric the grader does not report",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    outputs:",
      "      answer: { extract: last_boxed }",
      ...SOLVER.slice(4),
      ...DATASET,
      "outcome:",
      "  grader: exact_match",
      "  params:",
      "    answer: solver.answer",
      "  success: { metric: corect }",
    ],
    expect: [at("unknown_metric", 23, 22)],
    also: (ds) => assert.equal(ds[0]!.hint, 'did you mean "correct"?'),
  },
  {
    code: "invalid_regex",
    name:
      "compile() reports a stop_pattern that does not compile at the pattern",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    stop_pattern: '('",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("invalid_regex", 9, 19)],
    // V8's message repeats the pattern ("/(/: Unterminated group"); the reason alone is kept.
    also: (ds) =>
      assert.equal(
        ds[0]!.message,
        'Cannot compile regular expression "(": Unterminated group',
      ),
  },
  {
    code: "invalid_json_schema",
    name:
      "compile() reports an invalid inline JSON Schema and an unreadable schema file at the schema",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    produces:",
      "      - path: result.json",
      "        schema: { type: 12 }",
      "      - path: other.json",
      "        schema: schemas/other.json",
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [
      at("invalid_json_schema", 11, 17),
      at("invalid_json_schema", 13, 17),
    ],
    also: (ds) =>
      assert.match(
        ds[1]!.message,
        /^Cannot load JSON Schema "schemas\/other\.json"/,
      ),
  },
  {
    code: "score_out_of_scale",
    name: "compile() reports a check cap outside the rubric scale at the cap",
    spec: [
      ...HEAD,
      "  judge: { model: judge-model }",
      ...SOLVER,
      ...DATASET,
      "coach:",
      "  model: judge",
      "  rubric:",
      "    name: demo",
      '    template: "Score: {{ action.output }}"',
      "    scale: { min: 0, max: 5 }",
      "    checks:",
      "      - { id: silent, when: empty_reply, cap: 7 }",
    ],
    expect: [at("score_out_of_scale", 25, 47)],
  },
  {
    code: "trainable_conflict",
    name:
      "compile() reports training an untrainable role with its declaration as related",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      "    trainable: false",
      ...SOLVER.slice(4),
      "dataset:",
      "  splits:",
      "    train: https://example.com/train.jsonl",
      ...DATASET.slice(3),
      "train:",
      "  roles: [solver]",
    ],
    expect: [at("trainable_conflict", 19, 11)],
    also: (ds) =>
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 9, column: 16 },
      ]),
  },
  {
    code: "missing_dataset_file",
    name: "compile() warns about a missing local split file and still compiles",
    spec: [
      ...HEAD,
      ...SOLVER,
      "dataset:",
      "  splits:",
      "    test: data/test.jsonl",
      "    train: data/train.jsonl",
      ...DATASET.slice(3),
    ],
    files: { "data/train.jsonl": "" },
    expect: [at("missing_dataset_file", 13, 11)],
    also: (ds, result) => {
      assert.equal(result.ok, true);
      assert.equal(ds[0]!.severity, "warning");
    },
  },
  {
    code: "self_preference",
    name:
      "compile() warns when the coach judges a role served by its own model",
    spec: [
      ...HEAD,
      ...SOLVER,
      ...DATASET,
      "coach:",
      "  model: actor",
      "  rubric:",
      "    name: demo",
      '    template: "Score: {{ action.output }}"',
    ],
    expect: [at("self_preference", 18, 10)],
    also: (ds, result) => {
      assert.equal(result.ok, true);
      assert.equal(ds[0]!.severity, "warning");
    },
  },
  {
    code: "conflicting_values",
    name:
      "compile() reports min_tokens above max_tokens at min_tokens, with max_tokens as related",
    spec: [
      ...HEAD.slice(0, 3),
      "  actor: { model: m, sampling: { min_tokens: 9, max_tokens: 8 } }",
      ...SOLVER,
      ...DATASET,
    ],
    expect: [at("conflicting_values", 4, 46)],
    also: (ds) => {
      assert.deepEqual(relatedOf(ds[0]), [
        { file: "case.yaml", line: 4, column: 61 },
      ]);
    },
  },
  {
    code: "slow_regex",
    name: "compile() warns about a stop pattern with nested quantifiers",
    spec: [
      ...HEAD,
      ...SOLVER.slice(0, 4),
      '    stop_pattern: "(a+)+$"',
      ...SOLVER.slice(4),
      ...DATASET,
    ],
    expect: [at("slow_regex", 9, 19)],
    also: (ds, result) => {
      assert.equal(result.ok, true);
      assert.equal(ds[0]!.severity, "warning");
    },
  },
  {
    code: "split_overlap",
    name: "compile() warns when training is evaluated on its train split",
    spec: [
      ...HEAD,
      ...SOLVER,
      ...DATASET,
      "train:",
      "  split: test",
      "  eval: { splits: [test] }",
    ],
    expect: [at("split_overlap", 19, 20)],
    also: (_ds, result) => assert.equal(result.ok, true),
  },
  {
    code: "too_many_errors",
    name: "compile() caps 101 errors at 100 plus one too_many_errors",
    spec: [...HEAD, "roles:", ...ROLES_101, ...DATASET],
    expect: [
      ...ROLES_101.slice(0, 100).map((_, i) => at("unknown_model", 6 + i, 40)),
      at("too_many_errors", undefined, undefined),
    ],
  },
];

Deno.test("the structured table has one case per diagnostic code, in order", () => {
  assert.deepEqual(CASES.map((c) => c.code), [...DIAGNOSTIC_CODES]);
});

Deno.test("compile() reports each diagnostic code at its exact position", async (t) => {
  for (const c of CASES) {
    await t.step(`${c.code}: ${c.name}`, async () => {
      const result = c.module === undefined
        ? run(c.spec, c.files, {}, c.read)
        : await compileModule(c.module);
      const ds = diagnosticsOf(result);
      assert.deepEqual(ds.map(where), c.expect);
      c.also?.(ds, result);
    });
  }
});

const BASE = [
  "# base.yaml",
  ...HEAD,
  ...SOLVER.slice(0, 4),
  "    max_turns: 2",
  ...SOLVER.slice(4),
  ...DATASET,
].join("\n") + "\n";

Deno.test("compile() merges an extended spec's roles by id and keeps the child's values", () => {
  const graph = graphOf(
    run(
      ["extends: base.yaml", "roles:", "  - id: solver", "    max_turns: 3"],
      { "base.yaml": BASE },
    ),
  );
  assert.equal(graph.roles.length, 1);
  assert.equal(graph.roles[0]!.max_turns, 3);
  assert.equal(graph.roles[0]!.description, "Solves the problem");
});

Deno.test("compile() reports an invalid override of an extended role at the child file", () => {
  const result = run(
    ["extends: base.yaml", "roles:", "  - id: solver", "    max_turns: 0"],
    { "base.yaml": BASE },
  );
  assert.deepEqual(diagnosticsOf(result).map(where), [at("too_small", 4, 16)]);
});

Deno.test("compile() reports a problem inherited from a base spec at the base file", () => {
  const base = BASE.replace("    model: actor", "    model: acter");
  const result = run(
    ["extends: base.yaml", "roles:", "  - id: solver", "    max_turns: 3"],
    { "base.yaml": base },
  );
  assert.deepEqual(diagnosticsOf(result).map(where), [
    at("unknown_model", 9, 12, "base.yaml"),
  ]);
});

Deno.test("compile() substitutes ${env.NAME}, falls back to ${env.NAME:-default} and keeps $${ literal", () => {
  const graph = graphOf(run([
    ...HEAD.slice(0, 3),
    "  actor:",
    "    model: ${env.MAPPA_TEST_UNSET:-fallback-model}",
    '    base_url: "http://$${HOST}/v1"',
    "    family: ${env.MAPPA_TEST_SET}",
    "    api_key_env: KEY_${env.MAPPA_TEST_SET:-0}",
    "    script: ${env.MAPPA_TEST_UNSET:-}",
    ...SOLVER,
    ...DATASET,
  ]));
  const actor = graph.models.actor!;
  assert.equal(actor.model, "fallback-model");
  assert.equal(actor.base_url, "http://${HOST}/v1");
  assert.equal(actor.family, "1");
  assert.equal(actor.api_key_env, "KEY_1");
  assert.equal(actor.script, "");
});

Deno.test("compile() reports each malformed interpolation at its ${", () => {
  const result = run([
    ...HEAD.slice(0, 3),
    "  actor:",
    "    model: ${env.MAPPA_TEST_UNSET:-${env.MAPPA_TEST_SET}}",
    "    base_url: http://${env.MAPPA_TEST_SET",
    "    family: x${env.MAPPA_TEST_UNSET}",
    ...SOLVER,
    ...DATASET,
  ]);
  assert.deepEqual(diagnosticsOf(result).map(where), [
    at("invalid_interpolation", 5, 12),
    at("invalid_interpolation", 6, 22),
    at("undefined_env_var", 7, 14),
  ]);
});

Deno.test("compile() never interpolates text included with file://", () => {
  const graph = graphOf(run(
    [
      ...HEAD,
      ...SOLVER.slice(0, 5),
      "      user: file://solver.md",
      ...DATASET,
    ],
    { "solver.md": "Solve {{ task.problem }}; cost: ${env.MAPPA_TEST_UNSET}" },
  ));
  assert.match(graph.roles[0]!.prompts.user, /\$\{env\.MAPPA_TEST_UNSET\}$/);
});

Deno.test("compile() stops at the first failing phase: a shape error hides an unknown role", () => {
  const result = run([
    ...HEAD,
    ...SOLVER.slice(0, 4),
    "    max_turns: 0",
    "    after: [ghost]",
    ...SOLVER.slice(4),
    ...DATASET,
  ]);
  assert.deepEqual(diagnosticsOf(result).map(where), [at("too_small", 9, 16)]);
});

Deno.test("compile() stops at the first failing phase: an interpolation error hides a shape error", () => {
  const result = run([
    "version: ${env.MAPPA_TEST_UNSET}",
    ...HEAD.slice(1),
    ...SOLVER,
    ...DATASET,
  ]);
  assert.deepEqual(diagnosticsOf(result).map(where), [
    at("undefined_env_var", 1, 10),
  ]);
});

Deno.test("compile() sorts diagnostics by file, line and column", () => {
  // Rules run unknown_role before unknown_tool and template_variables last; the output is still in
  // source order, and the included prompt file sorts before case.yaml.
  const result = run(
    [
      ...HEAD,
      "tools:",
      "  python: { language: python }",
      "roles:",
      "  - id: solver",
      "    description: Solves the problem",
      "    model: actor",
      "    tools: [pyhton, rubyy]",
      "    prompts:",
      "      user: file://a.md",
      "  - id: checker",
      "    description: Checks the solution",
      "    model: actor",
      "    after: [solver, ghost]",
      "    prompts:",
      '      user: "Check: {{ task.problem }}"',
      ...DATASET,
    ],
    { "a.md": "{{ task.question }}" },
  );
  const ds = diagnosticsOf(result);
  assert.deepEqual(ds.map(where), [
    at("unknown_template_variable", 1, 4, "a.md"),
    at("unknown_tool", 11, 13),
    at("unknown_tool", 11, 21),
    at("unknown_role", 17, 21),
  ]);
  for (let i = 1; i < ds.length; i++) {
    assert.ok(compareDiagnostics(ds[i - 1]!, ds[i]!) <= 0);
  }
});

Deno.test("compile() caps diagnostics at maxErrors with one too_many_errors last", () => {
  const result = run([...HEAD, "roles:", ...ROLES_101, ...DATASET], {}, {
    maxErrors: 3,
  });
  assert.deepEqual(diagnosticsOf(result).map(where), [
    at("unknown_model", 6, 40),
    at("unknown_model", 7, 40),
    at("unknown_model", 8, 40),
    at("too_many_errors", undefined, undefined),
  ]);
  assert.match(diagnosticsOf(result)[3]!.message, /: 98 more were left out$/);
});

Deno.test("compile() caps warnings of a valid spec with a too_many_errors warning, not an error", () => {
  const splits = Array.from(
    { length: 5 },
    (_, i) => `    s${i}: missing_${i}.jsonl`,
  );
  const text = [
    ...HEAD,
    ...SOLVER,
    "dataset:",
    "  splits:",
    ...splits,
    "  fields: { inputs: { problem: prompt } }",
  ].join("\n");
  const result = compile(text, {
    file: "case.yaml",
    fileExists: () => false,
    maxErrors: 2,
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  assert.deepEqual(result.warnings.map((d) => [d.code, d.severity]), [
    ["missing_dataset_file", "warning"],
    ["missing_dataset_file", "warning"],
    ["too_many_errors", "warning"],
  ]);
});

Deno.test("compile() rejects __proto__ as a mapping key and as an id", () => {
  const key = compile(
    [
      ...HEAD.slice(0, 3),
      "  actor: { model: demo-model, sampling: { extra_body: { __proto__: 1 } } }",
      ...SOLVER,
      ...DATASET,
    ]
      .join("\n"),
    { file: "case.yaml" },
  );
  assert.deepEqual(diagnosticsOf(key).map(where), [
    at("invalid_format", 4, 57),
  ]);
  const id = compile(
    [...HEAD, ...SOLVER, ...DATASET].join("\n").replace(
      "id: solver",
      "id: __proto__",
    ),
    {
      file: "case.yaml",
    },
  );
  assert.deepEqual(diagnosticsOf(id).map(where), [at("invalid_value", 6, 9)]);
});

Deno.test("compileFile() reports a missing entry spec without a position", () => {
  const result = compileFile("missing.yaml", {
    readFile: (path) => {
      throw new Deno.errors.NotFound(`No such file: ${path}`);
    },
  });
  assert.deepEqual(diagnosticsOf(result).map(where), [
    at("file_not_found", undefined, undefined, "missing.yaml"),
  ]);
});

Deno.test("docs/diagnostics.md has one row per diagnostic code, in order", () => {
  const doc = Deno.readTextFileSync(
    fileURLToPath(new URL("../docs/diagnostics.md", import.meta.url)),
  );
  const rows = [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(rows, [...DIAGNOSTIC_CODES]);
});
