import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RULES } from "../rules.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));

function camel(snake: string): string {
  return snake.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
}

Deno.test("every rule file under dsl/rules/ is in RULES and has a test beside it", () => {
  const files = readdirSync(HERE)
    .filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"))
    .map((f) => f.slice(0, -".ts".length))
    .sort();
  assert.deepEqual(
    files.map(camel),
    RULES.map((r) => r.name).sort(),
  );
  const untested = files.filter((f) => !existsSync(`${HERE}${f}_test.ts`));
  assert.deepEqual(untested, []);
});

Deno.test("docs/diagnostics.md#rules lists RULES in run order, each linked to its file", () => {
  const doc = Deno.readTextFileSync(
    fileURLToPath(new URL("../../docs/diagnostics.md", import.meta.url)),
  );
  const rows = [
    ...doc.matchAll(/^\| \[`([a-z_]+)`\]\(\.\.\/dsl\/rules\/([a-z_]+)\.ts\)/gm),
  ];
  assert.deepEqual(rows.map((m) => m[1]), rows.map((m) => m[2]));
  assert.deepEqual(rows.map((m) => camel(m[1]!)), RULES.map((r) => r.name));
});
