import assert from "node:assert/strict";
import { interpolate } from "./interpolate.ts";
import { parseYaml } from "./parse_yaml.ts";
import { SourceText } from "./source_text.ts";
import { type SpecNode, toValue } from "./source_tree.ts";

const ENV: Record<string, string> = { HOST: "example.org", EMPTY: "" };

function env(name: string): string | undefined {
  return ENV[name];
}

function run(text: string) {
  const parsed = parseYaml(new SourceText("p.yaml", text));
  assert.deepEqual(parsed.diagnostics, []);
  const root = parsed.root as SpecNode;
  const diagnostics = interpolate(root, env);
  return {
    value: toValue(root),
    found: diagnostics.map((d) => ({
      code: d.code,
      line: d.position?.line,
      column: d.position?.column,
      endColumn: d.end?.column,
      path: d.path,
    })),
  };
}

Deno.test("interpolate() replaces set variables and falls back to defaults", () => {
  const { value, found } = run(
    [
      "a: https://${env.HOST}/v1",
      "b: ${env.UNSET:-fallback}",
      "c: ${env.HOST:-unused}",
      "d: ${env.UNSET:-}",
      "e: ${env.EMPTY:-empty means unset}",
      "f: ${env.UNSET:-a:-b}",
    ].join("\n"),
  );
  assert.deepEqual(found, []);
  assert.deepEqual(value, {
    a: "https://example.org/v1",
    b: "fallback",
    c: "example.org",
    d: "",
    e: "empty means unset",
    f: "a:-b",
  });
});

Deno.test("interpolate() reports an unset variable without a default at its position", () => {
  const { value, found } = run("models:\n  m:\n    url: x ${env.NOPE} y\n");
  assert.deepEqual(found, [{
    code: "undefined_env_var",
    line: 3,
    column: 12,
    endColumn: 23,
    path: ["models", "m", "url"],
  }]);
  assert.deepEqual(value, { models: { m: { url: "x ${env.NOPE} y" } } });
});

Deno.test("interpolate() turns $${ into a literal ${ without reading the environment", () => {
  const { value, found } = run("a: $${env.NOPE}\nb: cost $$5 and $${x}\n");
  assert.deepEqual(found, []);
  assert.deepEqual(value, { a: "${env.NOPE}", b: "cost $$5 and ${x}" });
});

Deno.test("interpolate() positions point inside quoted scalars past the quote", () => {
  const { found } = run(
    'a: "x ${env.NOPE}"\nb: \'x ${env.NOPE}\'\nc: ["${env.NOPE}"]\n',
  );
  assert.deepEqual(found.map((f) => [f.line, f.column, f.endColumn]), [
    [1, 7, 18],
    [2, 7, 18],
    [3, 6, 17],
  ]);
});

Deno.test("interpolate() positions a variable on a later line of a | block on that line", () => {
  // Used to point at the end of the block's first line.
  const { found } = run("a: |\n  first line\n  then ${env.NOPE}\n");
  assert.deepEqual(found.map((f) => [f.line, f.column, f.endColumn]), [
    [3, 8, 19],
  ]);
});

Deno.test("interpolate() rejects malformed references", () => {
  const { found } = run(
    [
      "a: ${env.OPEN",
      "b: ${HOST}",
      "c: ${env.A:-${env.B}}",
      "d: ${env.1BAD}",
    ].join("\n"),
  );
  assert.deepEqual(found.map((f) => [f.code, f.line, f.column]), [
    ["invalid_interpolation", 1, 4],
    ["invalid_interpolation", 2, 4],
    ["invalid_interpolation", 3, 4],
    ["invalid_interpolation", 4, 4],
  ]);
});

Deno.test("interpolate() leaves non-strings and included template text alone", () => {
  const root: SpecNode = {
    kind: "map",
    loc: { file: "p.yaml" },
    entries: new Map([
      ["n", {
        keyLoc: { file: "p.yaml" },
        node: { kind: "scalar", value: 3, loc: { file: "p.yaml" } },
      }],
      ["t", {
        keyLoc: { file: "p.yaml" },
        node: {
          kind: "scalar",
          value: "${env.NOPE}",
          loc: { file: "t.md" },
          included: true,
        },
      }],
    ]),
  };
  assert.deepEqual(interpolate(root, env), []);
  assert.deepEqual(toValue(root), { n: 3, t: "${env.NOPE}" });
});

Deno.test("interpolate() scans 100,000 unclosed ${ in linear time and reports the first (issue 14)", () => {
  const node: SpecNode = {
    kind: "scalar",
    value: "${".repeat(100_000),
    loc: { file: "x.yaml", start: { line: 1, column: 1, offset: 0 } },
  };
  const started = performance.now();
  const ds = interpolate(node, () => undefined);
  assert.ok(performance.now() - started < 200);
  assert.deepEqual(ds.map((d) => d.code), ["invalid_interpolation"]);
});
