// The parts of manifest.json's compiled graph (dsl/graph.ts ExecutionGraph) the report reads, taken
// defensively: a manifest is a file on disk, possibly from an older version or written by hand.

/** A model endpoint as the report shows it. */
export interface ReportModel {
  readonly id: string;
  readonly model: string;
  readonly provider: string;
  /** Declared `family`, else guessed from the model name; null when neither works. */
  readonly family: string | null;
  readonly family_inferred: boolean;
}

/** What the report needs of the graph. */
export interface ReportGraph {
  readonly name: string | null;
  readonly models: Readonly<Record<string, ReportModel>>;
  /** Role id -> model id, in graph order. */
  readonly role_models: readonly {
    readonly role: string;
    readonly model: string | null;
  }[];
  readonly coach_model: string | null;
  /** Coached roles and the name of the rubric that scores their actions. */
  readonly role_rubrics: readonly {
    readonly role: string;
    readonly rubric: string;
  }[];
  /** Rubric hash -> name and scale. */
  readonly rubrics: Readonly<
    Record<
      string,
      { readonly name: string; readonly min: number; readonly max: number }
    >
  >;
}

const KNOWN_FAMILIES = [
  "qwen",
  "llama",
  "gemini",
  "gemma",
  "claude",
  "mistral",
  "mixtral",
  "deepseek",
  "phi",
  "command",
  "grok",
  "glm",
  "kimi",
  "gpt",
];

type Rec = Record<string, unknown>;
function isRec(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A model family guessed from a served model name (`Qwen/Qwen3-4B` -> `qwen`, `gpt-4o-mini` -> `gpt`,
 * `o3-mini` -> `gpt`), or null when the name matches no known family.
 *
 * @example
 * ```ts
 * import { inferFamily } from "./report_graph.ts";
 * if (inferFamily("meta-llama/Llama-3.1-8B-Instruct") !== "llama") throw new Error("wrong family");
 * ```
 */
export function inferFamily(model: string): string | null {
  const name = model.toLowerCase().split("/").at(-1) ?? "";
  if (/^(o[1-9])(-|$)/.test(name)) return "gpt";
  return KNOWN_FAMILIES.find((f) => name.includes(f)) ?? null;
}

/**
 * Reads the graph out of a manifest; missing parts come back empty.
 *
 * @example
 * ```ts
 * import { readGraph } from "./report_graph.ts";
 * const g = readGraph({ graph: { models: { m: { model: "gpt-4o", family: "openai" } } } });
 * if (g.models.m?.family !== "openai") throw new Error("family lost");
 * ```
 */
export function readGraph(manifest: Readonly<Rec>): ReportGraph {
  const g = isRec(manifest.graph) ? manifest.graph : {};
  const models: Record<string, ReportModel> = {};
  for (const [id, m] of Object.entries(isRec(g.models) ? g.models : {})) {
    if (!isRec(m)) continue;
    const model = typeof m.model === "string" ? m.model : id;
    const declared = typeof m.family === "string" && m.family !== ""
      ? m.family
      : null;
    models[id] = {
      id,
      model,
      provider: typeof m.provider === "string" ? m.provider : "openai",
      family: declared ?? inferFamily(model),
      family_inferred: declared === null,
    };
  }
  const roles = Array.isArray(g.roles) ? g.roles.filter(isRec) : [];
  const coach = isRec(g.coach) ? g.coach : {};
  const rubrics: Record<string, { name: string; min: number; max: number }> =
    {};
  for (
    const [hash, r] of Object.entries(isRec(coach.rubrics) ? coach.rubrics : {})
  ) {
    if (!isRec(r) || !isRec(r.scale)) continue;
    const { min, max } = r.scale;
    if (typeof min === "number" && typeof max === "number" && max > min) {
      rubrics[hash] = {
        name: typeof r.name === "string" ? r.name : hash,
        min,
        max,
      };
    }
  }
  const names = new Map<string, string>();
  for (
    const [hash, r] of Object.entries(isRec(coach.rubrics) ? coach.rubrics : {})
  ) {
    if (isRec(r)) names.set(hash, typeof r.name === "string" ? r.name : hash);
  }
  const roleRubrics = roles.flatMap((r) => {
    const name = typeof r.rubric === "string" ? names.get(r.rubric) : undefined;
    return r.coached === true && name !== undefined
      ? [{ role: String(r.id), rubric: name }]
      : [];
  });
  return {
    name: typeof g.name === "string" ? g.name : null,
    models,
    role_rubrics: roleRubrics,
    role_models: roles.map((r) => ({
      role: String(r.id),
      model: typeof r.model === "string" ? r.model : null,
    })),
    coach_model: typeof coach.model === "string" ? coach.model : null,
    rubrics,
  };
}

/**
 * The rubric scale of a layer named `<name>@<hash>`, when the graph declares that rubric version
 * (a hash given in full or as the graph's prefix).
 */
export function layerScale(
  graph: ReportGraph,
  layer: string,
): { readonly min: number; readonly max: number } | null {
  const hash = layer.slice(layer.lastIndexOf("@") + 1);
  for (const [h, r] of Object.entries(graph.rubrics)) {
    if (
      hash !== "" && (h === hash || h.startsWith(hash) || hash.startsWith(h))
    ) return r;
  }
  return null;
}
