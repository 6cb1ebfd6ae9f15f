import assert from "node:assert/strict";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

// STYLE.md §1: imports only go down this list; cli/ (the commands, behind the few-line cli.ts) and
// mod.ts may import everything.
const LAYERS = [
  "dsl",
  "runtime",
  "coaches",
  "training",
  "report",
  "cli",
] as const;
type Layer = typeof LAYERS[number];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SKIP_DIRS = new Set([".git", "node_modules", ".cache", "runs"]);

/** An import from one module to another: repository-relative paths, or the specifier outside it. */
interface ModuleEdge {
  readonly from: string;
  readonly to: string;
}

function layerOf(path: string): Layer | undefined {
  const top = path.split("/")[0];
  return LAYERS.find((l) => l === top);
}

/** What a module outside every layer is called in messages: its top folder, or the file at the root. */
function areaOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 1 ? parts[0]! : path;
}

/**
 * The layer violations among import edges, one message each: a layer may import itself, the layers
 * before it in LAYERS, and packages; `dsl` may not import `openai`.
 */
function checkLayerEdges(edges: readonly ModuleEdge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const layer = layerOf(from);
    if (layer === undefined) continue;
    if (/^(npm|node|jsr|https?):/.test(to)) {
      if (layer === "dsl" && /^npm:\/?openai@/.test(to)) {
        out.push(`Module ${from} imports ${to}: dsl must not depend on openai`);
      }
      continue;
    }
    const target = layerOf(to);
    if (
      target === undefined ||
      LAYERS.indexOf(target) > LAYERS.indexOf(layer)
    ) {
      out.push(
        `Module ${from} imports ${to}: ${layer} must not depend on ${
          target ?? areaOf(to)
        }`,
      );
    }
  }
  return [...new Set(out)].sort();
}

/**
 * Imports from one layer into another go through that layer's mod.ts (its interface), and `_private`
 * files are used only inside their own layer: one message per edge that does not.
 */
function checkInterfaceEdges(edges: readonly ModuleEdge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const layer = layerOf(from);
    const target = layerOf(to);
    if (layer === undefined || target === undefined || target === layer) {
      continue;
    }
    const file = to.split("/").at(-1)!;
    if (file.startsWith("_")) {
      out.push(
        `Module ${from} imports ${to}: a _ file is private to ${target}; export what is needed from ${target}/mod.ts`,
      );
    } else if (to !== `${target}/mod.ts`) {
      out.push(
        `Module ${from} imports ${to}: import ${target}/mod.ts, not a file inside ${target}`,
      );
    }
  }
  return [...new Set(out)].sort();
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier?: string };
    readonly type?: { readonly specifier?: string };
  }[];
}

function toRepoPath(specifier: string): string {
  if (!specifier.startsWith("file:")) return specifier;
  return relative(ROOT, fileURLToPath(specifier)).split(sep).join("/");
}

/** Every import edge reachable from one module, from `deno info --json`. */
async function importEdges(path: string): Promise<ModuleEdge[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", path],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    code,
    0,
    `deno info ${path} failed: ${new TextDecoder().decode(stderr)}`,
  );
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: InfoModule[];
  };
  const edges: ModuleEdge[] = [];
  for (const m of info.modules) {
    if (!m.specifier.startsWith("file:")) continue;
    for (const d of m.dependencies ?? []) {
      for (const to of [d.code?.specifier, d.type?.specifier]) {
        if (to) {
          edges.push({ from: toRepoPath(m.specifier), to: toRepoPath(to) });
        }
      }
    }
  }
  return edges;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const path of walk(dir)) {
    if (/\.(ts|tsx|mts)$/.test(path)) out.push(path);
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(join(ROOT, path));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Source text with comments removed, so JSDoc examples (`console.assert`) do not count as code. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:"'`\\])\/\/.*$/gm,
    "$1",
  );
}

Deno.test("checkLayerEdges() reports imports that go up the layer list", () => {
  const edges: ModuleEdge[] = [
    { from: "dsl/compile.ts", to: "dsl/parse_yaml.ts" },
    { from: "dsl/compile.ts", to: "npm:/yaml@2.9.1" },
    { from: "dsl/compile.ts", to: "runtime/run.ts" },
    { from: "dsl/schema.ts", to: "mod.ts" },
    { from: "dsl/llm.ts", to: "npm:/openai@7.57.0" },
    { from: "runtime/run.ts", to: "dsl/graph.ts" },
    { from: "runtime/run.ts", to: "coaches/rubric_judge.ts" },
    { from: "runtime/llm/openai_client.ts", to: "npm:/openai@7.57.0" },
    { from: "coaches/rubric_judge.ts", to: "runtime/ports.ts" },
    { from: "coaches/rubric_judge.ts", to: "training/loop.ts" },
    { from: "training/loop.ts", to: "coaches/mod.ts" },
    { from: "training/loop.ts", to: "cli.ts" },
    { from: "training/loop.ts", to: "tests/fake_model.ts" },
    { from: "training/loop.ts", to: "report/mod.ts" },
    { from: "report/run_report.ts", to: "training/mod.ts" },
    { from: "report/run_report.ts", to: "coaches/mod.ts" },
    { from: "report/run_report.ts", to: "cli.ts" },
    { from: "report/run_report.ts", to: "cli/mod.ts" },
    { from: "training/loop.ts", to: "cli/preset.ts" },
    { from: "cli/run.ts", to: "training/mod.ts" },
    { from: "cli/report.ts", to: "report/mod.ts" },
    { from: "cli/run.ts", to: "cli.ts" },
    { from: "cli.ts", to: "cli/mod.ts" },
    { from: "cli.ts", to: "training/mod.ts" },
    { from: "cli.ts", to: "report/mod.ts" },
    { from: "mod.ts", to: "report/mod.ts" },
    { from: "mod.ts", to: "runtime/mod.ts" },
    { from: "tests/x_test.ts", to: "cli.ts" },
  ];
  assert.deepEqual(checkLayerEdges(edges), [
    "Module cli/run.ts imports cli.ts: cli must not depend on cli.ts",
    "Module coaches/rubric_judge.ts imports training/loop.ts: coaches must not depend on training",
    "Module dsl/compile.ts imports runtime/run.ts: dsl must not depend on runtime",
    "Module dsl/llm.ts imports npm:/openai@7.57.0: dsl must not depend on openai",
    "Module dsl/schema.ts imports mod.ts: dsl must not depend on mod.ts",
    "Module report/run_report.ts imports cli.ts: report must not depend on cli.ts",
    "Module report/run_report.ts imports cli/mod.ts: report must not depend on cli",
    "Module runtime/run.ts imports coaches/rubric_judge.ts: runtime must not depend on coaches",
    "Module training/loop.ts imports cli.ts: training must not depend on cli.ts",
    "Module training/loop.ts imports cli/preset.ts: training must not depend on cli",
    "Module training/loop.ts imports report/mod.ts: training must not depend on report",
    "Module training/loop.ts imports tests/fake_model.ts: training must not depend on tests",
  ]);
});

Deno.test("layers import only the layers below them", async () => {
  const present = [];
  for (const layer of LAYERS) if (await exists(layer)) present.push(layer);
  assert.ok(present.includes("dsl"), "dsl/ is missing");
  const edges: ModuleEdge[] = [];
  const reached = new Set<string>();
  for (const layer of present) {
    // mod.ts reaches the public files; the rest (internal modules, scripts) are walked from themselves.
    const roots = [
      ...(await exists(`${layer}/mod.ts`) ? [`${layer}/mod.ts`] : []),
      ...(await tsFiles(layer)).filter((f) => !/_test\.ts$/.test(f)),
    ];
    for (const root of roots) {
      if (reached.has(root)) continue;
      for (const e of await importEdges(root)) {
        edges.push(e);
        reached.add(e.from);
      }
      reached.add(root);
    }
  }
  assert.ok(edges.length > 0, "deno info found no imports");
  assert.deepEqual(checkLayerEdges(edges), []);
  assert.deepEqual(checkInterfaceEdges(edges), []);
});

Deno.test("checkInterfaceEdges() reports imports past a layer's mod.ts and private files used outside their layer", () => {
  assert.deepEqual(
    checkInterfaceEdges([
      { from: "coaches/judge.ts", to: "runtime/mod.ts" },
      { from: "coaches/judge.ts", to: "coaches/_util.ts" },
      { from: "coaches/judge.ts", to: "runtime/ports.ts" },
      { from: "training/loop.ts", to: "runtime/sandbox/_jail.ts" },
      { from: "tests/x_test.ts", to: "runtime/ports.ts" },
    ]),
    [
      "Module coaches/judge.ts imports runtime/ports.ts: import runtime/mod.ts, not a file inside runtime",
      "Module training/loop.ts imports runtime/sandbox/_jail.ts: a _ file is private to runtime; export what is needed from runtime/mod.ts",
    ],
  );
});

Deno.test("tests use no layer's _private files", async () => {
  const bad: string[] = [];
  for (const file of await tsFiles("tests")) {
    const text = stripComments(await Deno.readTextFile(join(ROOT, file)));
    for (
      const m of text.matchAll(/from\s+"((?:\.\.\/)+[^"]*\/_[a-z0-9_]+\.ts)"/g)
    ) {
      bad.push(`${file} imports ${m[1]}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("cli.ts is a few-line entry and cli/ loads report/ only on demand", async () => {
  const entry = stripComments(await Deno.readTextFile(join(ROOT, "cli.ts")));
  assert.deepEqual(
    [...entry.matchAll(/from\s+["']([^"']+)["']/g)].map((m) => m[1]),
    ["./cli/mod.ts"],
  );
  assert.ok(
    entry.trim().split("\n").length <= 10,
    `cli.ts holds more than the entry:\n${entry}`,
  );
  // report/ (plots with a DOM) is imported dynamically by the commands that need it, so check, graph,
  // run and train do not load it at start.
  const static_: string[] = [];
  for (const file of await tsFiles("cli")) {
    if (/_test\.ts$/.test(file)) continue;
    const code = stripComments(await Deno.readTextFile(join(ROOT, file)));
    if (/(from|import)\s+["'][^"']*report\/[^"']*["']/.test(code)) {
      static_.push(file);
    }
  }
  assert.deepEqual(static_, []);
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "cli.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(code, 0);
  const dynamic = (JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string }[] }[];
  }).modules.flatMap((m) =>
    (m.dependencies ?? []).filter((d) => d.specifier === "../report/mod.ts")
      .map(() => toRepoPath(m.specifier))
  ).sort();
  assert.deepEqual(dynamic, ["cli/compare.ts", "cli/report.ts"]);
});

Deno.test("dsl never imports openai, runs processes or logs", async () => {
  const problems: string[] = [];
  for (const file of await tsFiles("dsl")) {
    if (/_test\.ts$/.test(file)) continue;
    const code = stripComments(await Deno.readTextFile(join(ROOT, file)));
    if (/from\s+["'](npm:)?openai(@[^/"']*)?(\/[^"']*)?["']/.test(code)) {
      problems.push(`${file} imports openai`);
    }
    if (/\bDeno\s*\.\s*(Command|run)\b/.test(code)) {
      problems.push(`${file} runs a process`);
    }
    if (/\bconsole\s*\./.test(code)) problems.push(`${file} calls console`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("no TypeScript file imports from the JSR registry", async () => {
  // JSR is unreachable from the project's machines and CI (STYLE.md §10).
  const jsr = new RegExp(`(from|import)\\s*\\(?\\s*["'\`]${"jsr"}:`);
  const offenders: string[] = [];
  for (const file of await tsFiles("")) {
    const code = stripComments(await Deno.readTextFile(join(ROOT, file)));
    if (jsr.test(code)) offenders.push(file);
  }
  assert.deepEqual(offenders, []);
  const config = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ) as { imports?: Record<string, string> };
  assert.deepEqual(
    Object.entries(config.imports ?? {}).filter(([, v]) =>
      v.startsWith(`${"jsr"}:`)
    ),
    [],
  );
});

Deno.test("stripComments() keeps code and drops comments", () => {
  assert.equal(
    stripComments(
      '/** console.log() */\nconst u = "https://x"; // console.log\n',
    ),
    '\nconst u = "https://x"; \n',
  );
});

/** The import cycles among `edges` (strongly connected groups of two or more modules), each sorted. */
function importCycles(edges: readonly ModuleEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (/^(npm|node|jsr|https?):/.test(to)) continue;
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

Deno.test("importCycles() finds a cycle and nothing else", () => {
  assert.deepEqual(
    importCycles([
      { from: "a.ts", to: "b.ts" },
      { from: "b.ts", to: "a.ts" },
      { from: "b.ts", to: "c.ts" },
      { from: "c.ts", to: "npm:zod@4" },
    ]),
    [["a.ts", "b.ts"]],
  );
});

Deno.test("no module imports itself through others (no import cycle)", async () => {
  const edges = [
    ...await importEdges("mod.ts"),
    ...await importEdges("cli.ts"),
  ];
  assert.deepEqual(importCycles(edges), []);
});
