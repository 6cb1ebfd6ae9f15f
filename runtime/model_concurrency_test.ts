import assert from "node:assert/strict";
import { compile, compileFile, type ExecutionGraph } from "../dsl/mod.ts";
import {
  cappedModels,
  modelCapMessage,
  modelConcurrency,
} from "./model_concurrency.ts";

function graphOf(
  roles: string,
  models = "actor: { model: m }",
): ExecutionGraph {
  const result = compile(
    `version: 1
name: sized
models: { ${models} }
roles:
${roles}
dataset: { splits: { eval: tasks.jsonl }, fields: { inputs: {} } }
`,
    { fileExists: () => true },
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  return result.graph;
}

const role = (id: string, after: string[] = [], model = "actor") =>
  `  - { id: ${id}, description: d, model: ${model}, after: [${
    after.join(", ")
  }], prompts: { user: u } }`;

function demand(graph: ExecutionGraph, episodes: number, coached = false) {
  return Object.fromEntries(
    modelConcurrency(graph, { episodes, coached }).map((m) => [
      m.model,
      m.demand,
    ]),
  );
}

Deno.test("modelConcurrency() counts the roles of a model that can run at once, times the episodes", () => {
  // A chain runs one role at a time.
  const chain = graphOf(
    [role("a"), role("b", ["a"]), role("c", ["b"])].join("\n"),
  );
  assert.deepEqual(demand(chain, 32), { actor: 32 });
  // A fan-out runs b and c together; d waits for both.
  const fan = graphOf(
    [role("a"), role("b", ["a"]), role("c", ["a"]), role("d", ["b", "c"])]
      .join("\n"),
  );
  assert.deepEqual(demand(fan, 10), { actor: 20 });
  // a -> b -> c beside x: x can overlap any of them, though the compiler puts it in a's stage.
  const side = graphOf(
    [role("a"), role("b", ["a"]), role("c", ["b"]), role("x")].join("\n"),
  );
  assert.deepEqual(demand(side, 4), { actor: 8 });
  // Roles of other models do not count.
  const two = graphOf(
    [role("a"), role("b", [], "other")].join("\n"),
    "actor: { model: m }, other: { model: n }",
  );
  assert.deepEqual(demand(two, 4), { actor: 4, other: 4 });
});

Deno.test("modelConcurrency() takes a loop group as one role at a time, and adds the coach's judge calls", () => {
  const compiled = compileFile("pipelines/debate.yaml");
  assert.ok(compiled.ok);
  // proponent and opponent alternate in the loop; the judge waits for them.
  assert.deepEqual(demand(compiled.graph, 8), {
    debater: 8,
    judge: 8,
    coach: 0,
  });
  const coached = compiled.graph.roles.filter((r) => r.coached).length;
  assert.ok(coached > 0);
  assert.equal(demand(compiled.graph, 8, true).coach, 8 * coached);
});

Deno.test("modelConcurrency() sizes an unset max_concurrency to the demand and reports an explicit one below it", () => {
  const graph = graphOf(
    [role("a"), role("b"), role("c", [], "judge")].join("\n"),
    "actor: { model: m, max_concurrency: 8 }, judge: { model: j, max_concurrency: 64 }, spare: { model: s }",
  );
  const sized = modelConcurrency(graph, { episodes: 32, coached: false });
  assert.deepEqual(
    sized.map((m) => [m.model, m.demand, m.limit, m.explicit]),
    [
      ["actor", 64, 8, true],
      ["judge", 32, 64, true],
      ["spare", 0, 1, false],
    ],
  );
  const capped = cappedModels(sized, 32);
  assert.deepEqual(capped, [
    { model: "actor", max_concurrency: 8, demand: 64, episodes: 32 },
  ]);
  assert.equal(
    modelCapMessage(capped[0]!),
    'model "actor" caps requests at 8 while 32 episodes run (they could keep 64 in flight); raise models.actor.max_concurrency, or remove it to follow --concurrency',
  );
});
