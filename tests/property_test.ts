import assert from "node:assert/strict";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import {
  compile,
  type CompileResult,
  DIAGNOSTIC_CODES,
  renderDiagnostic,
  renderDiagnostics,
} from "../mod.ts";
import { SourceText } from "../dsl/source_text.ts";

// Run counts are bounded so the file stays well under a minute on two cores; PROPERTY_RUNS=5000 searches
// harder. A failure prints its seed, which `fc.assert(..., { seed, path })` replays.
const RUNS = Number(Deno.env.get("PROPERTY_RUNS") ?? 150);
const SPEC_NAMES = ["math", "dsbench", "debate"] as const;
type SpecName = typeof SPEC_NAMES[number];

const SPECS: Record<SpecName, string> = {
  math: await readSpec("math"),
  dsbench: await readSpec("dsbench"),
  debate: await readSpec("debate"),
};
const CODES: ReadonlySet<string> = new Set(DIAGNOSTIC_CODES);
function noEnv(_name: string): string | undefined {
  return undefined;
}

function readSpec(name: SpecName): Promise<string> {
  return Deno.readTextFile(
    new URL(`../pipelines/${name}.yaml`, import.meta.url),
  );
}

function compileAs(text: string, file = "pipeline.yaml"): CompileResult {
  return compile(text, { file, env: noEnv });
}

/** Asserts the invariants every compile result keeps, whatever the input. */
function assertWellFormed(result: CompileResult): void {
  const all = result.ok ? result.warnings : result.diagnostics;
  if (!result.ok) assert.ok(all.length > 0, "a failed compile has diagnostics");
  for (const d of all) {
    assert.ok(CODES.has(d.code), `unknown diagnostic code "${d.code}"`);
    assert.match(d.message, /^[A-Z]/, `message starts lowercase: ${d.message}`);
    assert.doesNotMatch(d.message, /\.$/, `message ends in ".": ${d.message}`);
    if (d.position) {
      const source = result.sources.get(d.file);
      assert.ok(source, `no source text for "${d.file}" of ${d.code}`);
      assert.ok(d.position.line >= 1, `line < 1 in ${d.code}`);
      assert.ok(d.position.column >= 1, `column < 1 in ${d.code}`);
      assert.ok(
        d.position.line <= source.lineCount,
        `line ${d.position.line} past the ${source.lineCount} lines of ${d.file} in ${d.code}`,
      );
    }
    for (const r of d.related ?? []) {
      if (!r.position) continue;
      const source = result.sources.get(r.file);
      assert.ok(source, `no source text for related "${r.file}" of ${d.code}`);
      assert.ok(r.position.line >= 1 && r.position.column >= 1);
      assert.ok(r.position.line <= source.lineCount);
    }
    assert.equal(typeof renderDiagnostic(d, result.sources), "string");
  }
  assert.equal(typeof renderDiagnostics(all, result.sources), "string");
}

function diagnosticsOf(result: CompileResult) {
  return result.ok ? result.warnings : result.diagnostics;
}

/** Compiles twice, checks both results are well formed and equal, and returns the first. */
function checkCompile(text: string, file?: string): CompileResult {
  const first = compileAs(text, file);
  assertWellFormed(first);
  const second = compileAs(text, file);
  assert.equal(second.ok, first.ok);
  if (first.ok && second.ok) {
    assert.equal(second.graph.spec_hash, first.graph.spec_hash);
  }
  assert.deepEqual(diagnosticsOf(second), diagnosticsOf(first));
  return first;
}

const SCALARS = [
  "42",
  "-3",
  "0",
  "1.5e3",
  "true",
  "null",
  "~",
  "[]",
  "{}",
  "''",
  '"x"',
  "[a, b]",
  "{ a: 1 }",
  "file://missing.md",
  "${env.UNSET}",
  "'{{ nope }}'",
  "*missing",
  "&a x",
  "!!binary aGk=",
  "!!str 3",
  ".inf",
  "0x1F",
  "2024-01-01",
];

type Mutation =
  | { kind: "delete_line"; at: number }
  | { kind: "duplicate_line"; at: number }
  | { kind: "swap_lines"; at: number; other: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "indent"; at: number; by: number }
  | { kind: "replace_scalar"; at: number; with: string }
  | { kind: "delete_key"; at: number };

const YAML_BITS = [
  ":",
  ": ",
  "- ",
  " ",
  "\n",
  "\n  ",
  "\t",
  "{",
  "}",
  "[",
  "]",
  ",",
  "'",
  '"',
  "#",
  "|",
  ">-",
  "&a ",
  "*a",
  "<<: *a",
  "!!str ",
  "---\n",
  "...",
  "${",
  "${env.X}",
  "$${",
  "{{",
  "}}",
  "{% if %}",
  "file://",
  "roles",
  "id",
  "after",
  "\u00e9",
  "\u{1F600}",
  "\r\n",
  "\\",
];

const insertText = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 4 }),
  fc.array(fc.constantFrom(...YAML_BITS), { minLength: 1, maxLength: 4 }).map(
    (a) => a.join(""),
  ),
);

// Positions are fractions in [0, 1), scaled to the text when applied, so one arbitrary fits every spec.
// Not fc.double: most doubles in [0, 1) are tiny, which would pick the first line almost every time.
const frac = fc.integer({ min: 0, max: 999_999 }).map((n) => n / 1e6);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  frac.map((at) => ({ kind: "delete_line" as const, at })),
  frac.map((at) => ({ kind: "duplicate_line" as const, at })),
  fc.tuple(frac, frac).map(([at, other]) => ({
    kind: "swap_lines" as const,
    at,
    other,
  })),
  frac.map((at) => ({ kind: "truncate" as const, at })),
  fc.tuple(frac, insertText).map(([at, text]) => ({
    kind: "insert" as const,
    at,
    text,
  })),
  fc.tuple(frac, fc.integer({ min: -4, max: 4 })).map(([at, by]) => ({
    kind: "indent" as const,
    at,
    by,
  })),
  fc.tuple(frac, fc.constantFrom(...SCALARS)).map(([at, w]) => ({
    kind: "replace_scalar" as const,
    at,
    with: w,
  })),
  frac.map((at) => ({ kind: "delete_key" as const, at })),
);

const KEY_LINE = /^(\s*(?:- )?)([A-Za-z_$][\w$]*)\s*:(.*)$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Applies one mutation to a spec's text; out-of-range picks are scaled into range. */
function mutate(text: string, m: Mutation): string {
  const lines = text.split("\n");
  const pick = (f: number) => Math.floor(f * lines.length);
  const keyLines = lines.flatMap((l, i) => KEY_LINE.test(l) ? [i] : []);
  const pickKey = (f: number) => keyLines[Math.floor(f * keyLines.length)];
  switch (m.kind) {
    case "delete_line":
      lines.splice(pick(m.at), 1);
      break;
    case "duplicate_line":
      lines.splice(pick(m.at), 0, lines[pick(m.at)]!);
      break;
    case "swap_lines": {
      const a = pick(m.at), b = pick(m.other);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      break;
    }
    case "truncate":
      return text.slice(0, Math.floor(m.at * text.length));
    case "insert": {
      const at = Math.floor(m.at * (text.length + 1));
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case "indent": {
      const i = pick(m.at);
      const line = lines[i]!;
      lines[i] = m.by >= 0
        ? " ".repeat(m.by) + line
        : line.slice(Math.min(-m.by, indentOf(line)));
      break;
    }
    case "replace_scalar": {
      const i = pickKey(m.at);
      if (i === undefined) break;
      const [, lead, key] = KEY_LINE.exec(lines[i]!)!;
      lines[i] = `${lead}${key}: ${m.with}`;
      break;
    }
    case "delete_key": {
      const i = pickKey(m.at);
      if (i === undefined) break;
      // A key's block is every following line indented deeper (or blank).
      const own = indentOf(lines[i]!) + (/^\s*- /.test(lines[i]!) ? 2 : 0);
      let end = i + 1;
      while (
        end < lines.length &&
        (lines[end]!.trim() === "" || indentOf(lines[end]!) > own)
      ) end++;
      const lead = /^(\s*- )/.exec(lines[i]!)?.[1];
      lines.splice(i, end - i, ...(lead ? [`${lead}{}`] : []));
      break;
    }
  }
  return lines.join("\n");
}

// Object mutations parse a shipped spec, change a value anywhere and stringify it again.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in a JSON tree, root included. */
function pathsOf(
  value: Json,
  at: (string | number)[] = [],
): (string | number)[][] {
  const out = [at];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(...pathsOf(v, [...at, k]));
    }
  }
  return out;
}

function valueAt(root: Json, path: (string | number)[]): Json {
  return path.reduce<Json>(
    (node, k) => (node as Record<string | number, Json>)[k]!,
    root,
  );
}

function setAt(
  root: Json,
  path: (string | number)[],
  value: Json | undefined,
): Json {
  if (path.length === 0) return value ?? null;
  const parent = valueAt(root, path.slice(0, -1)) as
    | Record<string | number, Json>
    | Json[];
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete (parent as Record<string, Json>)[last];
  } else (parent as Record<string | number, Json>)[last] = value;
  return root;
}

const replacement: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    "",
    "nope",
    "constructor",
    "__proto__",
    "toString",
    "{{ task.nope }}",
    "{{ outcome.expected }}",
    "{% if %}",
    "[",
    "file://missing.yaml",
    "file://math.yaml",
    -1,
    0,
    1.5,
    1e309,
    [],
    {},
    ["problem_solver"],
    { extract: "regex", pattern: "(" },
  ),
);

Deno.test("compile() never throws on arbitrary strings", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.array(fc.constantFrom(...YAML_BITS), { maxLength: 40 }).map((a) =>
          a.join("")
        ),
      ),
      (text) => {
        checkCompile(text);
      },
    ),
    { numRuns: RUNS * 2 },
  );
});

Deno.test("compile() never throws on random YAML documents", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.object({ maxDepth: 3 }),
        fc.dictionary(
          fc.constantFrom(
            "version",
            "name",
            "models",
            "tools",
            "roles",
            "flow",
            "dataset",
            "coach",
            "outcome",
            "train",
            "extends",
            "__proto__",
          ),
          fc.jsonValue({ maxDepth: 3 }),
        ),
      ),
      (value) => {
        let text: string;
        try {
          text = stringify(value);
        } catch {
          return; // yaml cannot write every JS value (e.g. -0 keys); not the compiler's concern
        }
        checkCompile(text);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("compile() never throws on mutated shipped specs", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SPEC_NAMES),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (name, mutations) => {
        const text = mutations.reduce(mutate, SPECS[name]);
        checkCompile(text, `pipelines/${name}.yaml`);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("compile() never throws on shipped specs with a value replaced or removed", () => {
  const trees = Object.fromEntries(
    SPEC_NAMES.map((n) => [n, parse(SPECS[n]) as Json]),
  ) as Record<SpecName, Json>;
  fc.assert(
    fc.property(
      fc.constantFrom(...SPEC_NAMES),
      fc.array(
        fc.tuple(frac, fc.oneof(replacement.map((v) => ({ v })), frac)),
        { minLength: 1, maxLength: 3 },
      ),
      (name, edits) => {
        let tree = structuredClone(trees[name]);
        for (const [f, edit] of edits) {
          const all = pathsOf(tree);
          const path = all[Math.floor(f * all.length)] ?? [];
          // A number picks another value of the same spec to copy here: ids and references swapped
          // between places reach the semantic rules, where random data mostly stops at the shape.
          const value = typeof edit === "number"
            ? structuredClone(
              valueAt(tree, all[Math.floor(edit * all.length)]!),
            )
            : edit.v;
          tree = setAt(tree, path, value);
        }
        checkCompile(stringify(tree), `pipelines/${name}.yaml`);
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("compile() gives every shipped spec the same result twice", () => {
  for (const name of SPEC_NAMES) {
    const result = checkCompile(SPECS[name], `pipelines/${name}.yaml`);
    assert.ok(result.ok, `pipelines/${name}.yaml does not compile`);
  }
});

Deno.test("SourceText positionOf() inverts positionAt() for every offset", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 100 }),
        fc.array(fc.constantFrom("a", "\n", "\r\n", "\t", " ", "\u{1F600}"), {
          maxLength: 60,
        }).map((a) => a.join("")),
      ),
      frac,
      (text, f) => {
        const source = new SourceText("x.yaml", text);
        const offset = Math.floor(f * (text.length + 1));
        const pos = source.positionAt(offset);
        assert.equal(pos.offset, offset);
        assert.ok(pos.line >= 1 && pos.line <= source.lineCount);
        assert.ok(pos.column >= 1);
        assert.equal(source.positionOf(pos.line, pos.column).offset, offset);
      },
    ),
    { numRuns: RUNS * 2 },
  );
});

function hashOf(text: string): string {
  const result = compileAs(text, "pipelines/math.yaml");
  assert.ok(
    result.ok,
    result.ok ? "" : renderDiagnostics(result.diagnostics, result.sources),
  );
  return result.graph.spec_hash;
}

Deno.test("compile() spec_hash ignores comments, blank lines and formatting", () => {
  const base = hashOf(SPECS.math);
  assert.equal(hashOf(stringify(parse(SPECS.math))), base);
  assert.equal(
    hashOf(
      stringify(parse(SPECS.math), { indent: 4, flowCollectionPadding: false }),
    ),
    base,
  );
  assert.equal(hashOf(JSON.stringify(parse(SPECS.math), null, 1)), base);
  const lines = SPECS.math.split("\n");
  // Only top-level keys and list items start a line safely preceded by a comment or a blank line.
  const safe = lines.flatMap((l, i) => /^(\S|\s*- )/.test(l) ? [i] : []);
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.oneof(
            fc.constant(""),
            fc.string({ maxLength: 20 }).map((s) =>
              `# ${s.replace(/[\r\n]/g, " ")}`
            ),
          ),
        ),
        { minLength: 1, maxLength: 5 },
      ),
      (inserts) => {
        const out = [...lines];
        // Insert bottom-up so each index still names the line it was picked for.
        const at = inserts.map(([n, extra]) =>
          [safe[n % safe.length]!, extra] as const
        );
        for (const [i, extra] of at.sort((a, b) => b[0] - a[0])) {
          const indent = /^\s*/.exec(out[i]!)![0];
          out.splice(i, 0, extra === "" ? "" : indent + extra);
        }
        assert.equal(hashOf(out.join("\n")), base);
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("compile() spec_hash changes when a meaningful value changes", () => {
  const base = hashOf(SPECS.math);
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 50 }), (turns) => {
      const changed = SPECS.math.replace("max_turns: 2", `max_turns: ${turns}`);
      assert.notEqual(hashOf(changed), base);
    }),
    { numRuns: 10 },
  );
  assert.notEqual(
    hashOf(SPECS.math.replace("steps: 128", "steps: 129")),
    base,
  );
});

Deno.test("compile() points every unset ${env.X} at its own text", () => {
  const word = fc.constantFrom(
    "a",
    "bc",
    " ",
    "x:y",
    "{{ t }}",
    "#1",
    "$$",
    "${env.NOPE}",
  );
  fc.assert(
    fc.property(
      fc.array(fc.array(word, { maxLength: 6 }).map((w) => w.join("")), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.constantFrom("plain", "double", "single", "literal"),
      (lines, style) => {
        const one = lines.join(" ").trim();
        const value = style === "literal"
          ? `|\n${lines.map((l) => `    ${l}`).join("\n")}`
          : style === "double"
          ? JSON.stringify(one)
          : style === "single"
          ? `'${one}'`
          : one;
        // A plain scalar cannot start with some indicators; skip what is not one string.
        if (style === "plain" && !/^[a-z]/.test(one)) return;
        const text = `version: 1\nname: x\nrole:\n  note: ${value}\n`;
        const result = checkCompile(text);
        const source = result.sources.get("pipeline.yaml")!;
        for (const d of diagnosticsOf(result)) {
          if (d.code !== "undefined_env_var") continue;
          assert.ok(d.position && d.end);
          assert.equal(
            source.text.slice(d.position.offset, d.end.offset),
            "${env.NOPE}",
          );
        }
      },
    ),
    { numRuns: RUNS },
  );
});

const CONTEXT_ROOTS = new Set([
  "pipeline",
  "task",
  "role",
  "upstream",
  "handoffs",
  "files",
  "missing_inputs",
  "turn",
]);
// Liquid literals and loop objects are not variables of the context.
const LIQUID_WORDS = new Set([
  "empty",
  "blank",
  "nil",
  "null",
  "true",
  "false",
  "forloop",
  "tablerowloop",
]);

function withVerifierPrompt(template: string): string {
  return SPECS.math.replace(
    "file://prompts/math/verifier.md",
    JSON.stringify(template),
  );
}

Deno.test("compile() rejects template variables outside a role's context", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)),
        fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/),
      ).filter((name) => !CONTEXT_ROOTS.has(name) && !LIQUID_WORDS.has(name)),
      fc.constantFrom("", ".name", ".length"),
      (name, tail) => {
        const result = compileAs(
          withVerifierPrompt(`{{ ${name}${tail} }} {{ task.problem }}`),
          "pipelines/math.yaml",
        );
        assertWellFormed(result);
        assert.ok(!result.ok, `"{{ ${name}${tail} }}" was accepted`);
        assert.deepEqual(
          result.diagnostics.map((d) => d.code),
          [
            name === "outcome"
              ? "outcome_not_visible"
              : "unknown_template_variable",
          ],
        );
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("compile() reports an unknown template variable named like an Object.prototype member", () => {
  // Found by "rejects template variables outside a role's context": `root in shape` saw inherited keys.
  for (const name of ["constructor.name", "toString", "hasOwnProperty"]) {
    const result = compileAs(
      withVerifierPrompt(`{{ ${name} }} {{ task.problem }}`),
      "pipelines/math.yaml",
    );
    assert.ok(!result.ok, `"{{ ${name} }}" was accepted`);
    assert.deepEqual(result.diagnostics.map((d) => d.code), [
      "unknown_template_variable",
    ]);
  }
});

Deno.test("compile() strips every trailing period from YAML syntax messages", () => {
  // Found by "never throws on arbitrary strings" (seed 974792658): yaml's message ended in "|..".
  const result = checkCompile("|...");
  assert.ok(!result.ok);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.position?.line]), [
    ["yaml_syntax", 1],
  ]);
});

Deno.test("compile() reports exponential YAML alias expansion instead of running out of memory", () => {
  // A 300-byte "billion laughs" document used to expand to 10^9 nodes and crash the process.
  let text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (let i = 1; i <= 9; i++) {
    text += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(", ")}]\n`;
  }
  const start = performance.now();
  const result = checkCompile(text, "bomb.yaml");
  assert.ok(performance.now() - start < 5_000, "alias expansion is not capped");
  assert.ok(!result.ok);
  // The alias budget (dsl/budgets.ts) refuses it while parsing, located.
  assert.deepEqual(
    result.diagnostics.map((d) => [d.code, d.position?.line]),
    [["over_budget", 1]],
  );
  assert.match(result.diagnostics[0]!.message, /^Cannot expand YAML aliases/);
});
