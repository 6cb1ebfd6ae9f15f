import assert from "node:assert/strict";
import {
  blockSpec,
  coachChecks,
  compileYaml,
  ONE_TASK,
} from "../../tests/fixtures/compile_yaml.ts";

async function compileIn(
  checks: readonly string[],
  files: Record<string, string> = {},
) {
  const spec = blockSpec("command_checks", "eval", coachChecks(checks));
  return (await compileYaml(spec, { ...ONE_TASK, ...files })).result;
}

Deno.test("command checks: a program is required, one only, in a known language", async () => {
  const result = await compileIn(
    [
      "      - { id: none, when: command, cap: 0 }",
      '      - { id: both, when: command, script: "file://checks/a.py", code: "print(1)", language: python, cap: 0 }',
      '      - { id: ext, when: command, script: "file://checks/a.txt", cap: 0 }',
      '      - { id: plain, when: command, script: "checks/a.py", cap: 0 }',
      '      - { id: nolang, when: command, code: "print(1)", cap: 0 }',
      '      - { id: stray, when: empty_reply, code: "print(1)", timeout_s: 5, cap: 0 }',
      '      - { id: pat, when: command, pattern: "x", code: "print(1)", language: python, cap: 0 }',
    ],
    { "checks/a.py": "print(1)\n", "checks/a.txt": "print(1)\n" },
  );
  assert(!result.ok);
  const found = result.diagnostics.map((d) => [
    d.code,
    d.path.join("."),
    d.position?.line,
  ]);
  assert.deepEqual(found, [
    ["missing_key", "coach.rubric.checks.0.when", 19],
    ["conflicting_values", "coach.rubric.checks.1.code", 20],
    ["invalid_value", "coach.rubric.checks.2.script", 21],
    ["invalid_value", "coach.rubric.checks.3.script", 22],
    ["missing_key", "coach.rubric.checks.4.code", 23],
    ["invalid_value", "coach.rubric.checks.5.code", 24],
    ["invalid_value", "coach.rubric.checks.5.timeout_s", 24],
    ["invalid_value", "coach.rubric.checks.6.pattern", 25],
  ]);
  const messages = result.diagnostics.map((d) => d.message).join("\n");
  assert.match(messages, /extension "\.txt" is none of \.py/);
  assert.match(messages, /script must be a file:\/\/ include/);
});

Deno.test("command checks: a script's language comes from its extension and its text is in the rubric hash", async () => {
  const check = [
    '      - { id: hard, when: command, script: "file://checks/hard.py", roles: [a], cap: 2, timeout_s: 5 }',
  ];
  const one = await compileIn(check, { "checks/hard.py": "print(1)\n" });
  const two = await compileIn(check, { "checks/hard.py": "print(2)\n" });
  assert(one.ok && two.ok);
  const rubric = Object.values(one.graph.coach!.rubrics)[0]!;
  assert.deepEqual(rubric.checks[0], {
    id: "hard",
    when: "command",
    script: "print(1)\n",
    language: "python",
    roles: ["a"],
    cap: 2,
    timeout_s: 5,
  });
  assert.notEqual(
    rubric.hash,
    Object.values(two.graph.coach!.rubrics)[0]!.hash,
  );
  const ts = await compileIn(
    ['      - { id: t, when: command, script: "file://checks/t.ts", cap: 2 }'],
    { "checks/t.ts": "console.log('{}')\n" },
  );
  assert(ts.ok);
  assert.equal(
    Object.values(ts.graph.coach!.rubrics)[0]!.checks[0]!.language,
    "typescript",
  );
});
