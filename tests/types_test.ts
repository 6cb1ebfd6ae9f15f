import assert from "node:assert/strict";
import type { z } from "zod";
import {
  definePipeline,
  type GraphRole,
  type PipelineAuthoring,
  type Role,
  RoleSchema,
} from "../dsl/mod.ts";

// Type-level tests (STYLE.md §10): they fail at `deno check` time, before any test runs.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends
  (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;

type _RoleIsTheSchemaOutput = Expect<Equal<z.output<typeof RoleSchema>, Role>>;
type _GraphRoleHasNameAndIndex = Expect<
  Equal<
    Pick<GraphRole, "name" | "index">,
    { readonly name: string; readonly index: number }
  >
>;
type AuthoredRubric = NonNullable<PipelineAuthoring["coach"]> extends infer C
  ? C extends { rubric: infer R } ? R : never
  : never;
type _RubricMayBeAnInclude = Expect<
  Equal<Extract<AuthoredRubric, string>, `file://${string}`>
>;

Deno.test("definePipeline() returns the spec unchanged, typed as authored", () => {
  const spec = definePipeline({
    version: 1,
    name: "typed",
    models: { m: { model: "x" } },
    roles: [{
      id: "a",
      description: "d",
      model: "m",
      prompts: { user: "file://prompt.md" },
    }],
    dataset: { splits: { eval: "t.jsonl" }, fields: { inputs: {} } },
    coach: { model: "m", rubric: "file://rubric.yaml" },
  });
  assert.equal(spec.coach.rubric, "file://rubric.yaml");
  assert.equal(spec.roles[0].prompts.user, "file://prompt.md");
});
