import type { ReportGraph } from "./report_graph.ts";
import { inferFamily } from "./report_graph.ts";
import { keyOf, type ReportLayer } from "./report_data.ts";
import type { ScoredAction } from "./report_rows.ts";
import { cohenKappa, krippendorffAlpha, mean, spearman } from "./stats.ts";

// Coach-bias analyses of a run (reference/mappa-method.md §10, judges-and-specs.md §6): the task-category
// gap conditioned on outcome, score against response length, judge/agent family overlap, and the
// agreement of several score layers on the same actions.

export type { ScoredAction } from "./report_rows.ts";

/** Mean and count of one cell. */
export interface Cell {
  readonly mean: number | null;
  readonly n: number;
}

/** Mean score per task category within successful and within failed episodes, and the gap. */
export interface CategoryGap {
  readonly categories: readonly {
    readonly category: string;
    readonly success: Cell;
    readonly failure: Cell;
    readonly all: Cell;
  }[];
  /** The categories with the highest and lowest overall mean; the gaps are `high − low`. */
  readonly high: string | null;
  readonly low: string | null;
  readonly gap_success: number | null;
  readonly gap_failure: number | null;
  readonly gap_overall: number | null;
  /** Mean of the within-outcome gaps that exist: the gap with outcome held fixed. */
  readonly gap_conditioned: number | null;
}

function cell(xs: readonly number[]): Cell {
  return { mean: mean(xs), n: xs.length };
}

function diff(a: Cell | undefined, b: Cell | undefined): number | null {
  return a?.mean != null && b?.mean != null ? a.mean - b.mean : null;
}

/**
 * The category gap conditioned on outcome. A coach that favours one task type shows a gap within
 * successes and within failures alike; a gap only in the pooled means may just be different success rates.
 *
 * @example
 * ```ts
 * import { categoryGap } from "./bias.ts";
 * const row = (category: string, success: boolean, score: number) =>
 *   ({ key: "", episode_id: "", role: "r", category, success, score, reply_chars: 0 });
 * const g = categoryGap([row("reg", true, 9), row("cls", true, 7), row("reg", false, 5), row("cls", false, 4)]);
 * if (g.gap_success !== 2 || g.gap_failure !== 1 || g.gap_conditioned !== 1.5) throw new Error("wrong gap");
 * ```
 */
export function categoryGap(rows: readonly ScoredAction[]): CategoryGap {
  const names = [...new Set(rows.map((r) => r.category))].sort();
  const categories = names.map((category) => {
    const of = (pred: (r: ScoredAction) => boolean) =>
      cell(
        rows.filter((r) => r.category === category && pred(r)).map((r) =>
          r.score
        ),
      );
    return {
      category,
      success: of((r) => r.success === true),
      failure: of((r) => r.success === false),
      all: of(() => true),
    };
  });
  const ranked = categories.filter((c) => c.all.mean !== null)
    .sort((a, b) =>
      b.all.mean! - a.all.mean! || a.category.localeCompare(b.category)
    );
  const hi = ranked.length >= 2 ? ranked[0] : undefined;
  const lo = ranked.length >= 2 ? ranked.at(-1) : undefined;
  const gs = diff(hi?.success, lo?.success);
  const gf = diff(hi?.failure, lo?.failure);
  const within = [gs, gf].filter((g): g is number => g !== null);
  return {
    categories,
    high: hi?.category ?? null,
    low: lo?.category ?? null,
    gap_success: gs,
    gap_failure: gf,
    gap_overall: diff(hi?.all, lo?.all),
    gap_conditioned: mean(within),
  };
}

/** Spearman's ρ of score against reply length, overall and per role. */
export interface LengthCorrelation {
  readonly overall: { readonly rho: number | null; readonly n: number };
  readonly roles: readonly {
    readonly role: string;
    readonly rho: number | null;
    readonly n: number;
  }[];
}

/**
 * Rank correlation of score with response length: a judge with a verbosity bias shows ρ well above 0.
 *
 * @example
 * ```ts
 * import { lengthCorrelation } from "./bias.ts";
 * const row = (reply_chars: number, score: number) =>
 *   ({ key: "", episode_id: "", role: "r", category: "", success: null, score, reply_chars });
 * if (lengthCorrelation([row(10, 1), row(20, 2), row(30, 3)]).overall.rho !== 1) throw new Error("wrong rho");
 * ```
 */
export function lengthCorrelation(
  rows: readonly ScoredAction[],
): LengthCorrelation {
  const rho = (rs: readonly ScoredAction[]) => ({
    rho: spearman(rs.map((r) => r.reply_chars), rs.map((r) => r.score)),
    n: rs.length,
  });
  const roles = [...new Set(rows.map((r) => r.role))].sort();
  return {
    overall: rho(rows),
    roles: roles.map((role) => ({
      role,
      ...rho(rows.filter((r) => r.role === role)),
    })),
  };
}

/** A judge model and agent roles whose models share its family (self-preference risk). */
export interface FamilyClash {
  readonly family: string;
  /** The judge's model: a graph model id, or the name a verdict recorded. */
  readonly judge: string;
  /** Where the judge comes from: the spec's coach, or a score layer. */
  readonly source: string;
  readonly roles: readonly string[];
  /** True when a family was guessed from a model name rather than declared. */
  readonly inferred: boolean;
}

/**
 * Judges that share a family with an agent's model: the spec's coach model and every LLM judge a layer
 * recorded, against each role's model (families from `graph.models[].family`, else guessed from names).
 *
 * @example
 * ```ts
 * import { familyClashes } from "./bias.ts";
 * import { readGraph } from "./report_graph.ts";
 * const graph = readGraph({ graph: {
 *   models: { a: { model: "x", family: "qwen" }, j: { model: "y", family: "qwen" } },
 *   roles: [{ id: "solver", model: "a" }], coach: { model: "j" } } });
 * if (familyClashes(graph, [])[0]?.roles[0] !== "solver") throw new Error("no clash");
 * ```
 */
export function familyClashes(
  graph: ReportGraph,
  layers: readonly ReportLayer[],
): FamilyClash[] {
  const judges = new Map<
    string,
    { source: string; family: string | null; inferred: boolean }
  >();
  const add = (name: string, source: string) => {
    if (judges.has(name)) return;
    const m = graph.models[name];
    judges.set(
      name,
      m ? { source, family: m.family, inferred: m.family_inferred } : {
        source,
        family: inferFamily(name),
        inferred: true,
      },
    );
  };
  if (graph.coach_model) add(graph.coach_model, "spec coach");
  for (const layer of layers) {
    for (const v of layer.verdicts) {
      if (v.judge.kind !== "llm") continue;
      const name = v.judge.model_name ?? v.judge.model;
      if (name !== null) add(name, `layer ${layer.name}`);
    }
  }
  const out: FamilyClash[] = [];
  for (const [judge, j] of judges) {
    if (j.family === null) continue;
    const roles = graph.role_models.filter((r) => {
      const m = r.model !== null ? graph.models[r.model] : undefined;
      return m?.family?.toLowerCase() === j.family!.toLowerCase();
    });
    if (roles.length === 0) continue;
    out.push({
      family: j.family,
      judge,
      source: j.source,
      roles: roles.map((r) => r.role),
      inferred: j.inferred ||
        roles.some((r) => graph.models[r.model!]!.family_inferred),
    });
  }
  return out;
}

/** Agreement of score layers on the actions they both scored. */
export interface Agreement {
  readonly layers: readonly string[];
  /** Actions scored by at least two layers. */
  readonly units: number;
  /** Krippendorff's α, interval metric, over every layer. */
  readonly alpha: number | null;
  readonly pairs: readonly {
    readonly a: string;
    readonly b: string;
    readonly n: number;
    /** Cohen's κ on scores rounded to integers (exact agreement). */
    readonly kappa: number | null;
    /** Cohen's κ with quadratic weights (ordinal scores: near misses count less). */
    readonly kappa_quadratic: number | null;
    readonly spearman: number | null;
    readonly mean_abs_diff: number | null;
    readonly points: readonly (readonly [number, number])[];
  }[];
}

/**
 * How far several score layers agree, pairing verdicts by action; null with fewer than two layers.
 *
 * @example
 * ```ts
 * import { layerAgreement } from "./bias.ts";
 * if (layerAgreement([]) !== null) throw new Error("one layer has no agreement");
 * ```
 */
export function layerAgreement(
  layers: readonly ReportLayer[],
): Agreement | null {
  const usable = layers.filter((l) => l.verdicts.some((v) => v.score !== null));
  if (usable.length < 2) return null;
  const maps = usable.map((l) =>
    new Map(
      l.verdicts.filter((v) => v.score !== null).map((
        v,
      ) => [keyOf(v), v.score!]),
    )
  );
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  const rows = maps.map((m) => keys.map((k) => m.get(k) ?? null));
  const pairs = [];
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const points = keys.filter((k) => maps[i]!.has(k) && maps[j]!.has(k))
        .map((k) => [maps[i]!.get(k)!, maps[j]!.get(k)!] as const);
      const xs = points.map((p) => p[0]);
      const ys = points.map((p) => p[1]);
      pairs.push({
        a: usable[i]!.name,
        b: usable[j]!.name,
        n: points.length,
        kappa: cohenKappa(xs.map(Math.round), ys.map(Math.round)),
        kappa_quadratic: cohenKappa(xs, ys, { weights: "quadratic" }),
        spearman: spearman(xs, ys),
        mean_abs_diff: mean(points.map((p) => Math.abs(p[0] - p[1]))),
        points,
      });
    }
  }
  return {
    layers: usable.map((l) => l.name),
    units: keys.filter((k) => maps.filter((m) => m.has(k)).length >= 2).length,
    alpha: krippendorffAlpha(rows, "interval"),
    pairs,
  };
}
