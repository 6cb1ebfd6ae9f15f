import { dirname, isAbsolute, join, normalize } from "node:path";
import { canonicalJson, sha256 } from "./_canonical.ts";
import { globsOverlap, isGlob } from "./glob.ts";
import type {
  ExecutionGraph,
  GraphCoach,
  GraphDataset,
  GraphFlow,
  GraphProducedFile,
  GraphRole,
  GraphRubric,
  GraphSplit,
} from "./graph.ts";
import type { GraphProgram } from "./graph.ts";
import type { RuleContext } from "./rule_context.ts";
import { includedFrom } from "./rules/outcome_graders.ts";
import type { Rubric } from "./schema.ts";
import type { SourceText } from "./source_text.ts";

function topoOrder(ctx: RuleContext): { order: string[]; stages: string[][] } {
  const roles = ctx.spec.roles;
  const level = new Map<string, number>();
  const indegree = new Map(roles.map((r) => [r.id, r.after.length]));
  const children = new Map<string, string[]>();
  for (const r of roles) {
    for (const a of r.after) {
      children.set(a, [...(children.get(a) ?? []), r.id]);
    }
  }
  let ready = roles.filter((r) => r.after.length === 0).map((r) => r.id);
  const order: string[] = [];
  const stages: string[][] = [];
  while (ready.length > 0) {
    stages.push(ready);
    const next: string[] = [];
    for (const id of ready) {
      order.push(id);
      for (const c of children.get(id) ?? []) {
        level.set(c, Math.max(level.get(c) ?? 0, stages.length));
        const d = indegree.get(c)! - 1;
        indegree.set(c, d);
        if (d === 0) next.push(c);
      }
    }
    ready = next.sort((a, b) => ctx.roleIndex.get(a)! - ctx.roleIndex.get(b)!);
  }
  return { order, stages };
}

/** The part of a path or glob before its first special character: every match starts with it. */
function staticPrefix(pattern: string): string {
  const p = pattern.replace(/^(\.\/)+/, ""); // picomatch drops a leading "./" from globs
  const i = p.search(/[*?[\]{}()!+@\\]/);
  return i < 0 ? p : p.slice(0, i);
}

/**
 * Where each consumed file comes from: the nearest producing ancestors (a producer upstream of another is
 * shadowed by it), or else the task when `dataset.files` provides it; plus the nearest producing loop peers
 * that run later, whose file is the previous round's.
 */
function fileFlows(
  ctx: RuleContext,
  roles: readonly GraphRole[],
  taskFiles: readonly string[],
): GraphFlow[] {
  // Each produced path once, with its static prefix: comparing prefixes and visibility is cheap, the glob
  // overlap is not.
  const byPath = new Map<
    string,
    { path: string; glob: boolean; head: string; roles: GraphRole[] }
  >();
  for (const r of roles) {
    for (const { path } of r.produces) {
      const entry = byPath.get(path) ??
        { path, glob: isGlob(path), head: staticPrefix(path), roles: [] };
      entry.roles.push(r);
      byPath.set(path, entry);
    }
  }
  const all = [...byPath.values()];
  const globs = all.filter((e) => e.glob);
  const producers = (
    pattern: string,
    visible: (id: string) => boolean,
  ): GraphRole[] => {
    const head = staticPrefix(pattern);
    const exact = byPath.get(pattern);
    const out = new Set<GraphRole>();
    for (const e of isGlob(pattern) ? all : exact ? [exact, ...globs] : globs) {
      if (!e.head.startsWith(head) && !head.startsWith(e.head)) continue;
      const seen = e.roles.filter((r) => visible(r.id));
      if (seen.length > 0 && globsOverlap(e.path, pattern)) {
        seen.forEach((r) => out.add(r));
      }
    }
    return [...out];
  };
  const nearest = (found: readonly GraphRole[]) =>
    found.filter((p) => !found.some((q) => ctx.ancestors(q.id).has(p.id)));
  return roles.flatMap((to) => {
    const ancestors = ctx.ancestors(to.id);
    // ctx.visibleUpstream() without its copy of the ancestor set, which made this quadratic.
    const visible = (id: string) =>
      id !== to.id &&
      (ancestors.has(id) ||
        (to.loop !== undefined && ctx.loopOf.get(id) === to.loop));
    // Keyed by source; the task is null, since a role may be named "task".
    const from = new Map<GraphRole | null, string[]>();
    for (const c of to.consumes) {
      const found = producers(c, visible);
      const upstream: (GraphRole | null)[] = nearest(
        found.filter((p) => ancestors.has(p.id)),
      );
      if (upstream.length === 0 && taskFiles.some((t) => globsOverlap(c, t))) {
        upstream.push(null);
      }
      const peers = nearest(found.filter((p) => !ancestors.has(p.id)));
      for (const s of [...upstream, ...peers]) {
        from.set(s, [...(from.get(s) ?? []), c]);
      }
    }
    return [...from]
      .sort(([a], [b]) => (a?.index ?? -1) - (b?.index ?? -1))
      .map(([source, files]) => ({
        from: source?.id ?? "task",
        from_task: source === null,
        to: to.id,
        files: [...new Set(files)],
      }));
  });
}

/**
 * A rubric's content hash: the first 12 hex digits of the sha256 of its canonical JSON (after defaults),
 * so its score layer is `<name>@<hash>` wherever the rubric is read from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rubricHash } from "./build_graph.ts";
 * import { RubricSchema } from "./schema.ts";
 * assert.match(rubricHash(RubricSchema.parse({ name: "r", default_score: 5 })), /^[0-9a-f]{12}$/);
 * ```
 */
export function rubricHash(rubric: Rubric): string {
  return sha256(canonicalJson(rubric)).slice(0, 12);
}

function rubricWithHash(rubric: Rubric, file: string): GraphRubric {
  return { ...rubric, hash: rubricHash(rubric), file };
}

/**
 * Builds the execution graph from a spec that passed every rule: topological order, stages, `after` edges
 * and file flows, resolved paths, rubric hashes and the spec hash.
 */
export function buildGraph(
  ctx: RuleContext,
  specFile: string,
  sources: ReadonlyMap<string, SourceText>,
): ExecutionGraph {
  const spec = ctx.spec;
  const { order, stages } = topoOrder(ctx);
  const relTo = (path: (string | number)[], raw: string) =>
    isAbsolute(raw)
      ? raw
      : normalize(join(dirname(ctx.locate(path).file), raw));

  const coached = new Set(ctx.coachedRoles.map((r) => r.id));
  const rubrics: Record<string, GraphRubric> = {};
  const rubricFor: Record<string, string> = {};
  for (const use of ctx.rubricUses) {
    const r = rubricWithHash(
      use.rubric,
      ctx.locate([...use.path, "template"]).file,
    );
    rubrics[r.hash] = r;
    for (const role of use.roles) rubricFor[role.id] = r.hash;
  }

  const downstream = new Map<string, string[]>();
  for (const r of spec.roles) {
    for (const a of new Set(r.after)) {
      const list = downstream.get(a) ?? [];
      list.push(r.id);
      downstream.set(a, list);
    }
  }
  const roles: GraphRole[] = order.map((id, index) => {
    const role = ctx.roleById.get(id)!;
    const ancestors = ctx.ancestors(id);
    const i = ctx.roleIndex.get(id)!;
    const produces: GraphProducedFile[] = role.produces.map((p, j) => {
      if (typeof p === "string") return { path: p, required: true };
      const schema = ctx.artifactSchemas.get(`${id}:${j}`);
      return {
        path: p.path,
        required: p.required,
        ...(schema !== undefined ? { schema } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
      };
    });
    const { sees: _sees, produces: _p, name: _n, ...rest } = role;
    void i;
    const loop = ctx.loopOf.get(id);
    const rubric = rubricFor[id];
    return {
      ...rest,
      name: role.name ?? id,
      index,
      produces,
      sees: ctx.sees(role),
      // Ancestors come before a role in topological order: a prefix scan, not a sort (O(n) per role).
      upstream: order.slice(0, index).filter((a) => ancestors.has(a)),
      downstream: downstream.get(id) ?? [],
      ...(loop !== undefined ? { loop } : {}),
      coached: coached.has(id),
      ...(rubric !== undefined && coached.has(id) ? { rubric } : {}),
    };
  });
  const byId = new Map(roles.map((r) => [r.id, r]));
  const edges = roles.flatMap((to) =>
    to.after.map((from) => ({
      from,
      to: to.id,
      files: to.consumes.filter((c) =>
        byId.get(from)!.produces.some((p) => globsOverlap(p.path, c))
      ),
    }))
  );

  const splits: Record<string, GraphSplit> = {};
  for (const [name, split] of Object.entries(spec.dataset.splits)) {
    const raw = typeof split === "string" ? split : split.path;
    const isUrl = /^https?:\/\//.test(raw);
    const path = typeof split === "string"
      ? ["dataset", "splits", name]
      : ["dataset", "splits", name, "path"];
    const format = typeof split !== "string" && split.format
      ? split.format
      : "auto";
    splits[name] = {
      name,
      source: isUrl ? raw : relTo(path, raw),
      is_url: isUrl,
      format,
      ...(typeof split !== "string" && split.limit !== undefined
        ? { limit: split.limit }
        : {}),
      exclude_overlap_with: typeof split === "string"
        ? []
        : split.exclude_overlap_with,
    };
  }
  const dataset: GraphDataset = {
    ...spec.dataset,
    files: spec.dataset.files.map((
      f,
      i,
    ) => ("path" in f
      ? { ...f, path: relTo(["dataset", "files", i, "path"], f.path) }
      : f)
    ),
    splits,
    default_split: spec.dataset.default_split ??
      (Object.hasOwn(splits, "eval")
        ? "eval"
        : Object.keys(splits)[0] ?? "train"),
  };

  let coach: GraphCoach | undefined;
  if (spec.coach) {
    const { rubric: _r, rubrics: _rs, roles: _roles, ...rest } = spec.coach;
    coach = { ...rest, roles: [...coached], rubrics, rubric_for: rubricFor };
  }
  const split = (ref: string) => {
    const dot = ref.indexOf(".");
    return { role: ref.slice(0, dot), output: ref.slice(dot + 1) };
  };
  const outcome = spec.outcome && "answer" in spec.outcome.params
    ? (() => {
      const ref =
        (spec.outcome.params as { answer: string | Record<string, string> })
          .answer;
      return typeof ref === "string"
        ? { ...spec.outcome, answer_ref: split(ref) }
        : {
          ...spec.outcome,
          answer_refs: Object.fromEntries(
            Object.entries(ref).map(([name, r]) => [name, split(r)]),
          ),
        };
    })()
    : spec.outcome;

  const programs = outcomePrograms(ctx, specFile);
  const graphOutcome = outcome && Object.keys(programs).length > 0
    ? { ...outcome, programs }
    : outcome;

  const { $schema: _s, extends: _e, ...meaning } = spec;
  const hashed = {
    ...meaning,
    roles: spec.roles.map((r) => ({
      ...r,
      produces: byId.get(r.id)!.produces,
    })),
  };
  return {
    schema_version: 1,
    name: spec.name,
    ...(spec.description !== undefined
      ? { description: spec.description }
      : {}),
    spec_hash: sha256(canonicalJson(hashed)),
    spec_file: specFile,
    sources: [...sources.values()].map((s) => ({
      path: s.file,
      sha256: sha256(s.text),
    })),
    models: spec.models,
    tools: spec.tools,
    roles,
    edges,
    flows: fileFlows(ctx, roles, spec.dataset.files.map((f) => f.as)),
    stages,
    entry: spec.flow.entry ?? stages[0] ?? [],
    loops: spec.flow.loops.map((l) => ({
      id: l.id,
      roles: l.roles,
      max_rounds: l.max_rounds!,
      ...(l.until
        ? {
          until: {
            role: l.until.output.split(".")[0]!,
            output: l.until.output.split(".").slice(1).join("."),
            matches: l.until.matches,
          },
        }
        : {}),
    })),
    dataset,
    ...(coach ? { coach } : {}),
    ...(graphOutcome ? { outcome: graphOutcome } : {}),
    ...(spec.train
      ? {
        train: {
          ...spec.train,
          roles: spec.train.roles ??
            spec.roles.filter((r) => r.trainable).map((r) => r.id),
        },
      }
      : {}),
    ...(spec.demo !== undefined ? { demo: relTo(["demo"], spec.demo) } : {}),
  };
}

/**
 * The program of each command grader of the outcome, by composite component id ("" for the outcome
 * itself), with the file it was included from (the `outcome_graders` rule resolved its language).
 */
function outcomePrograms(
  ctx: RuleContext,
  specFile: string,
): Record<string, GraphProgram> {
  const outcome = ctx.spec.outcome;
  if (!outcome) return {};
  const parts = outcome.grader === "composite"
    ? Object.entries(outcome.params.graders).map(([id, g]) =>
      [id, g, ["outcome", "params", "graders", id, "params"]] as const
    )
    : [["", outcome, ["outcome", "params"]] as const];
  const out: Record<string, GraphProgram> = {};
  for (const [id, g, at] of parts) {
    if (g.grader !== "command" || g.params.language === undefined) continue;
    const code = g.params.script ?? g.params.code;
    if (code === undefined) continue;
    const source = g.params.script !== undefined
      ? includedFrom(ctx.root, [...at, "script"]) ?? specFile
      : `${specFile} (${[...at, "code"].join(".")})`;
    out[id] = { language: g.params.language, code, source };
  }
  return out;
}
