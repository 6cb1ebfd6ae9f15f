import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
} from "../runtime/mod.ts";

/** The reasoning every demo verdict carries, so no reader takes it for a model's judgement. */
export const DEMO_VERDICT_REASONING =
  "Demo judge: a scripted verdict, not a model's (the coach model has no endpoint). It gives every action the middle of the rubric's scale; the rubric's deterministic checks still cap it. Set the coach model's base_url to have a model judge.";

// The judge prompt states the scale as "a number from MIN to MAX" (llm_judge_request.ts).
const SCALE = /a number from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)/;

/**
 * A model client that answers the coach model's requests with a scripted, labelled verdict (the middle of
 * the rubric's scale, no blame), and passes every other request on: the offline demo's first run ends with
 * a score layer and a report, as a run with a real judge does, and every verdict says it is a demo's.
 *
 * @example
 * ```ts ignore
 * const client = new DemoJudgeClient(router, "coach");
 * const coach = new RunCoach(graph, { client });
 * ```
 */
export class DemoJudgeClient implements ModelClient {
  readonly #inner: ModelClient;
  readonly #judgeModel: string;

  constructor(inner: ModelClient, judgeModel: string) {
    this.#inner = inner;
    this.#judgeModel = judgeModel;
  }

  /** Whether requests for `model` get demo verdicts. */
  judges(model: string): boolean {
    return model === this.#judgeModel;
  }

  ensureConcurrency(limits: Readonly<Record<string, number>>): void {
    this.#inner.ensureConcurrency?.(limits);
  }

  complete(request: ModelRequest): Promise<ModelResponse> {
    if (request.model !== this.#judgeModel) {
      return this.#inner.complete(request);
    }
    const prompt = request.messages.map((m) => m.content).join("\n");
    const m = SCALE.exec(prompt);
    const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, 10];
    const text = JSON.stringify({
      reasoning: DEMO_VERDICT_REASONING,
      score: (min + max) / 2,
      blame: null,
    });
    return Promise.resolve({
      ok: true,
      text,
      tool_calls: [],
      finish_reason: "stop",
      usage: {
        prompt_tokens: Math.ceil(prompt.length / 4),
        completion_tokens: Math.ceil(text.length / 4),
      },
      latency_ms: 0,
      cost_usd: null,
      attempts: 1,
      provider: "scripted",
      model_name: "demo-judge",
    });
  }
}
