import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(answer: string): string[] {
  return [
    ...HEAD,
    "roles:",
    "  - { id: a, description: d, model: m, prompts: { user: hi }, outputs: { answer: { extract: last_boxed } } }",
    DATASET,
    `outcome: { grader: exact_match, params: { answer: ${answer} } }`,
  ];
}

Deno.test("unknown_outputs: the outcome's answer names an output its role declares", async () => {
  const r = await compileYaml(spec("a.anwser"));
  assert.deepEqual(r.found, [
    "error unknown_output outcome.params.answer 7:51",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /Cannot resolve output "a\.anwser" in outcome\.params\.answer: role "a" declares no output "anwser"/,
  );
  assert.match(r.diagnostics[0]!.hint!, /did you mean "answer"\?/);
});

Deno.test("unknown_outputs: a reference without a dot is reported as malformed", async () => {
  const r = await compileYaml(spec("answer"));
  assert(r.found.includes("error unknown_output outcome.params.answer 7:51"));
  assert(
    r.diagnostics.some((d) => /expected <role>\.<output>/.test(d.message)),
  );
});

Deno.test("unknown_outputs: a declared output compiles", async () => {
  const r = await compileYaml(spec("a.answer"));
  assert.deepEqual(r.found, []);
});
