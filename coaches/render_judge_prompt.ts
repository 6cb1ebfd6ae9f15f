import { createHash } from "node:crypto";
import type { GraphRubric } from "../dsl/mod.ts";
import { renderTemplate } from "../runtime/mod.ts";
import { dataPreamble, fenceEvidence } from "./evidence_fence.ts";
import type { Evidence } from "./types.ts";

/** A rendered judge prompt and its sha256 (the verdict's `prompt_sha256`, part of the cache key). */
export interface JudgePrompt {
  readonly text: string;
  /** Hex sha256 of `text` as UTF-8. */
  readonly sha256: string;
}

/**
 * Renders a rubric's Liquid template with the evidence of one action. The evidence's keys are the
 * template's variables (`role`, `action`, `files`, `facts`, `scale`, `outcome` where allowed: the
 * shapes `dsl/template_context.ts` checks at compile time), rendered by the same engine as prompts.
 * What the agents and their tools wrote is shown fenced as data (`fenceEvidence`), and a prompt that
 * shows any opens with `dataPreamble`, which tells the judge it is evidence, never instructions.
 * Throws `TypeError` for a rubric without a template (a deterministic coach has no prompt) or a
 * template that cannot be rendered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderJudgePrompt } from "./render_judge_prompt.ts";
 * import type { GraphRubric } from "../dsl/mod.ts";
 * import type { Evidence } from "./types.ts";
 * const rubric = { name: "r", hash: "h", file: "r.md", scale: { min: 0, max: 10 }, checks: [], caps: [],
 *   template: "Score {{ role.id }} from {{ scale.min }} to {{ scale.max }}." } as GraphRubric;
 * const evidence = { role: { id: "solver" }, scale: { min: 0, max: 10 } } as unknown as Evidence;
 * const prompt = renderJudgePrompt(evidence, rubric);
 * assert.equal(prompt.text, "Score solver from 0 to 10.");
 * assert.equal(prompt.sha256.length, 64);
 * ```
 */
export function renderJudgePrompt(
  evidence: Evidence,
  rubric: GraphRubric,
): JudgePrompt {
  if (rubric.template === undefined) {
    throw new TypeError(
      `Cannot render the judge prompt of rubric "${rubric.name}": it has no template; it is a deterministic coach`,
    );
  }
  const fenced = fenceEvidence(evidence);
  let text: string;
  try {
    text = renderTemplate(rubric.template, { ...fenced.evidence });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `Cannot render the judge prompt of rubric "${rubric.name}" (${rubric.file}): ${why}`,
      { cause: error },
    );
  }
  if (text.includes(`<data-${fenced.nonce}>`)) {
    text = dataPreamble(fenced.nonce) + text;
  }
  return { text, sha256: sha256Hex(text) };
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
