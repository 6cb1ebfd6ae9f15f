import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MOD = join(ROOT, "mod.ts");

// A change of the public surface shows in review as a snapshot diff; `deno test -A -u` accepts it.
Deno.test("mod.ts exports the reviewed public surface", async (t) => {
  const keys = Object.keys(await import("../mod.ts")).sort();
  await t.assertSnapshot(keys);
});

interface Definition {
  readonly file: string;
  readonly line: number;
  readonly hasJsDoc: boolean;
  readonly hasExample: boolean;
}

function escape(name: string): string {
  return name.replace(/[$]/g, "\\$");
}

/** Names re-exported by `export { a, b as c } from "spec"` statements, as [exported, original]. */
function namedReExports(
  text: string,
): { names: [string, string][]; from: string }[] {
  const out = [];
  for (
    const m of text.matchAll(
      /export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*"([^"]+)"/g,
    )
  ) {
    const names = m[1]!.split(",").map((s) => s.trim().replace(/^type\s+/, ""))
      .filter((s) => s !== "").map((s) => {
        const [original, exported] = s.split(/\s+as\s+/);
        return [exported ?? original!, original!] as [string, string];
      });
    out.push({ names, from: m[2]! });
  }
  return out;
}

/** Follows re-exports from `file` to the declaration of `name`, and checks for JSDoc right above it. */
async function findDefinition(
  name: string,
  file: string,
  seen = new Set<string>(),
): Promise<Definition | undefined> {
  if (seen.has(file)) return undefined;
  seen.add(file);
  const text = await Deno.readTextFile(file);
  const lines = text.split("\n");
  const declaration = new RegExp(
    `^export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function\\*?|class|const|let|var|interface|type|enum)\\s+${
      escape(name)
    }\\b`,
  );
  const index = lines.findIndex((l) => declaration.test(l));
  if (index >= 0) {
    let prev = index - 1;
    while (prev >= 0 && lines[prev]!.trim() === "") prev--;
    const hasJsDoc = prev >= 0 && lines[prev]!.trimEnd().endsWith("*/");
    let start = prev;
    while (hasJsDoc && start > 0 && !lines[start]!.includes("/**")) start--;
    return {
      file: relative(ROOT, file),
      line: index + 1,
      hasJsDoc,
      hasExample: hasJsDoc &&
        lines.slice(start, prev + 1).some((l) => l.includes("@example")),
    };
  }
  const dir = dirname(file);
  for (const { names, from } of namedReExports(text)) {
    const hit = names.find(([exported]) => exported === name);
    if (hit) return findDefinition(hit[1], join(dir, from), seen);
  }
  for (const m of text.matchAll(/export\s+\*\s+from\s*"([^"]+)"/g)) {
    const found = await findDefinition(name, join(dir, m[1]!), seen);
    if (found) return found;
  }
  return undefined;
}

Deno.test("every export of mod.ts has JSDoc, and every value export an @example", async () => {
  const values = Object.keys(await import("../mod.ts"));
  const types = namedReExports(await Deno.readTextFile(MOD)).flatMap((r) =>
    r.names.map(([exported]) => exported)
  );
  const missing: string[] = [];
  for (const name of new Set([...values, ...types])) {
    const def = await findDefinition(name, MOD);
    assert.ok(def, `cannot find where "${name}" is declared`);
    const where = `${def.file}:${def.line}`;
    if (!def.hasJsDoc) missing.push(`${name} has no JSDoc (${where})`);
    // Types are exempt from examples: `deno test --doc` runs code, and a type alone does nothing.
    else if (values.includes(name) && !def.hasExample) {
      missing.push(`${name} has no @example (${where})`);
    }
  }
  assert.deepEqual(missing, []);
});

Deno.test("mod.ts has a @module JSDoc with an example", async () => {
  const text = await Deno.readTextFile(MOD);
  assert.match(text, /^\/\*\*[\s\S]*@example[\s\S]*@module[\s\S]*?\*\//);
});
