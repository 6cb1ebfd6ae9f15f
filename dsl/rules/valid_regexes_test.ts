import assert from "node:assert/strict";
import {
  compileYaml,
  DATASET,
  HEAD,
  role,
} from "../../tests/fixtures/compile_yaml.ts";

function spec(pattern: string, group: number): string[] {
  return [
    ...HEAD,
    "roles:",
    role(
      "a",
      `outputs: { n: { extract: regex, pattern: '${pattern}', group: ${group} } }`,
    ),
    DATASET,
  ];
}

Deno.test("valid_regexes: a pattern compiles in JavaScript and on RE2, and its group exists", async () => {
  const broken = await compileYaml(spec("(a", 1));
  assert.deepEqual(broken.found, [
    "error invalid_regex roles.0.outputs.n.pattern 5:104",
  ]);
  assert.match(
    broken.diagnostics[0]!.message,
    /Cannot compile regular expression "\(a": Unterminated group/,
  );
  const lookahead = await compileYaml(spec("a(?=b)", 0));
  assert.deepEqual(lookahead.found, [
    "error invalid_regex roles.0.outputs.n.pattern 5:104",
  ]);
  assert.match(
    lookahead.diagnostics[0]!.message,
    /on RE2, the linear-time engine/,
  );
  const group = await compileYaml(spec("(a)", 2));
  assert.deepEqual(group.found, [
    "error invalid_regex roles.0.outputs.n.group 5:118",
  ]);
  assert.match(
    group.diagnostics[0]!.message,
    /Cannot extract group 2 of "\(a\)": it has 1 group$/,
  );
});

Deno.test("valid_regexes: nested quantifiers are a slow_regex warning", async () => {
  const r = await compileYaml(spec("(a+)+b", 0));
  assert(r.ok);
  assert.deepEqual(r.found, [
    "warning slow_regex roles.0.outputs.n.pattern 5:104",
  ]);
  assert.match(
    r.diagnostics[0]!.message,
    /the group at character 1 repeats a part that repeats itself/,
  );
});

Deno.test("valid_regexes: a linear pattern with an existing group compiles", async () => {
  const r = await compileYaml(spec("(a+)b", 1));
  assert.deepEqual(r.found, []);
});
