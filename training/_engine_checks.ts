import {
  type ModelRequest,
  openaiChatMessage,
  openaiChatTool,
} from "../runtime/mod.ts";
import { EngineError, type EngineHttp } from "./_engine_http.ts";
import {
  firstDifference,
  formatGap,
  type LogprobGap,
  logprobGap,
} from "./_token_compare.ts";
import type { TrainerClient } from "./trainer_client.ts";

// What the rollout engine checks of a vLLM server against the trainer (docs/vllm.md): its chat template,
// its base model, and each adapter it loads; every failure is a one-line message naming the fix.

/** Token ids scored on both sides, and the position from which they are compared. */
export interface Probe {
  readonly ids: readonly number[];
  readonly from: number;
}

/** How one adapter scored its probe on one engine: against the trainer, and how far the version before is. */
export interface ProbeFigures {
  readonly gap: LogprobGap;
  /** `v<k>` or "the base model". */
  readonly against: string;
  readonly separation: LogprobGap;
  /**
   * Whether `against` scores the probe measurably unlike the new version (its gap above the engine's own
   * numeric noise, measured on the base model): only then can a stale adapter be told from the new one.
   */
  readonly discriminative: boolean;
}

/** A gap counts as measurable when it is this many times the engine's noise floor. */
const NOISE_MARGIN = 4;
/** The noise floor never goes below this (an fp32 engine can match the trainer to 1e-7). */
const MIN_NOISE = 1e-5;

const PROBE_USER = {
  role: "user",
  content:
    "Name the three primary colours of paint, then count from one to five.",
};
const PROBE_REPLY = {
  role: "assistant",
  content: "Red, yellow and blue. One, two, three, four, five.",
};
// User and assistant turns only: some chat templates refuse a system message.
const TEMPLATE_CHAT = [PROBE_USER, PROBE_REPLY, {
  role: "user",
  content: "Merci ! Et en français, « rouge » ?",
}];
const MAX_PROBE_TOKENS = 512;
const TEMPLATE_FIX =
  "the engine must render chats with the trainer's chat template: serve the tokenizer the trainer uses, or pass vllm serve --chat-template with the trainer's template";

/** A role's action as a probe: its prompt and completion, the completion compared, at most 512 tokens. */
export function actionProbe(
  prompt: readonly number[],
  completion: readonly number[],
): Probe | undefined {
  if (prompt.length === 0 || completion.length === 0) return undefined;
  const ids = [...prompt, ...completion].slice(-MAX_PROBE_TOKENS);
  return { ids, from: Math.max(1, ids.length - completion.length) };
}

/** A fixed conversation rendered by the trainer, its reply compared: the probe before any action exists. */
export async function fixedProbe(trainer: TrainerClient): Promise<Probe> {
  const ids = (await trainer.render({
    messages: [PROBE_USER, PROBE_REPLY],
    add_generation_prompt: false,
  })).token_ids;
  const prompt = (await trainer.render({
    messages: [PROBE_USER],
    add_generation_prompt: true,
  })).token_ids;
  const from = firstDifference(prompt, ids) === prompt.length
    ? prompt.length
    : 1;
  return { ids: ids.slice(0, MAX_PROBE_TOKENS), from };
}

/**
 * Checks a server before it serves anything: it answers, lists a base model, renders a test conversation
 * with the trainer's chat template, and its base model scores `probe` as the trainer's base does.
 * Returns the base model's name.
 */
export async function checkEngine(
  http: EngineHttp,
  context: {
    trainer: TrainerClient;
    roles: readonly string[];
    tolerance: number;
    baseModel: string | undefined;
    probe: Probe;
    trainerBase: () => Promise<readonly (number | null)[]>;
  },
): Promise<{ base: string; noise: number }> {
  const url = http.url;
  await http.health();
  const base = (await http.models()).find((m) => !m.parent);
  if (base === undefined) {
    throw new EngineError(
      `Cannot use vLLM engine at ${url}: /v1/models lists no base model; check that it is a vLLM server`,
      "malformed",
      200,
    );
  }
  const engineIds = await http.tokenize(base.id, TEMPLATE_CHAT);
  const trainerIds = (await context.trainer.render({
    messages: TEMPLATE_CHAT,
    add_generation_prompt: true,
  })).token_ids;
  const at = firstDifference(engineIds, trainerIds);
  if (at >= 0) {
    throw new Error(
      `Cannot serve roles ${
        context.roles.map((r) => `"${r}"`).join(", ")
      } from vLLM engine at ${url}: ${
        templateDifference(at, engineIds, trainerIds)
      } on a test conversation; ${TEMPLATE_FIX}`,
    );
  }
  const { probe } = context;
  const gap = logprobGap(
    await http.promptLogprobs(base.id, probe.ids),
    await context.trainerBase(),
    probe.from,
  );
  if (gap.mean > context.tolerance) {
    throw new Error(
      `Cannot use vLLM engine at ${url}: its base model "${base.id}" scores a fixed probe unlike the trainer's base model${
        context.baseModel ? ` "${context.baseModel}"` : ""
      } (mean |Δ logprob| ${formatGap(gap.mean)}, max ${
        formatGap(gap.max)
      } at token ${gap.at}, probe_tolerance ${context.tolerance}); serve the model the trainer trains, in the same precision`,
    );
  }
  return { base: base.id, noise: gap.mean };
}

/**
 * Loads an adapter on a server and checks its logprobs of the probe against the trainer's at that
 * version; `against` (the version before, or the base model) is scored too, to tell how discriminating
 * the probe is and, on a mismatch, whether the server still serves it. A failed check unloads the name.
 */
export async function loadAndVerify(
  http: EngineHttp,
  adapter: {
    name: string;
    dir: string;
    policy: string;
    version: number;
    probe: Probe;
    trainer: readonly (number | null)[];
  },
  against: { name: string; label: string },
  context: { tolerance: number; adapterDir: string; noise: number },
): Promise<ProbeFigures> {
  const { name, policy, version, probe } = adapter;
  const url = http.url;
  try {
    await http.load(name, adapter.dir);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    throw new Error(
      e.code === "no_route"
        ? `Cannot load adapter "${name}" into vLLM engine at ${url}: it has no /v1/load_lora_adapter; start it with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True and --enable-lora`
        : e.code === "unreachable"
        ? e.message
        : `Cannot load adapter "${name}" (policy "${policy}", version ${version}) into vLLM engine at ${url}: it answered HTTP ${e.status}: ${e.said}; check --enable-lora, --max-lora-rank >= the adapter's rank, --max-loras and --max-cpu-loras, and that it can read ${adapter.dir}`,
    );
  }
  const engine = await http.promptLogprobs(name, probe.ids);
  const gap = logprobGap(engine, adapter.trainer, probe.from);
  const before = await http.promptLogprobs(against.name, probe.ids);
  const separation = logprobGap(before, adapter.trainer, probe.from);
  // When unsure, not equal: where the version before is measurably away from the new one, the engine must
  // be measurably closer to the new one; being within probe_tolerance of both is not proof of delivery.
  const floor = Math.max(context.noise, MIN_NOISE);
  const discriminative = separation.mean > NOISE_MARGIN * floor;
  if (
    gap.mean > context.tolerance ||
    (discriminative && gap.mean > separation.mean / 2)
  ) {
    await http.unload(name).catch(() => {});
    const stale = logprobGap(engine, before, probe.from);
    throw new Error(
      `Cannot use adapter "${name}" (policy "${policy}", version ${version}) on vLLM engine at ${url}: its logprobs of the probe differ from the trainer's by mean |Δ| ${
        formatGap(gap.mean)
      }, max |Δ| ${
        formatGap(gap.max)
      } at token ${gap.at} (probe_tolerance ${context.tolerance}; ${against.label} is ${
        formatGap(separation.mean)
      } from the trainer's new version, the engine's noise ${
        formatGap(floor)
      })${
        stale.mean <= Math.min(context.tolerance, gap.mean)
          ? `, and equal those of ${against.label} (mean |Δ| ${
            formatGap(stale.mean)
          }): the engine still serves ${against.label}`
          : ""
      }; check the engine's base model, --max-lora-rank, VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, and that ${context.adapterDir} is the same directory on the engine`,
    );
  }
  return { gap, against: against.label, separation, discriminative };
}

/** The engine's prompt ids of a role's request against the trainer's rendering of the same messages and tools. */
export async function checkRoleTemplate(
  trainer: TrainerClient,
  role: string,
  url: string,
  request: ModelRequest,
  engineIds: readonly number[],
): Promise<Error | undefined> {
  const trainerIds = (await trainer.render({
    // The chat shapes the model client sends, so the trainer renders exactly what the engine was sent.
    messages: request.messages.map(openaiChatMessage),
    ...(request.tools?.length
      ? { tools: request.tools.map(openaiChatTool) }
      : {}),
    add_generation_prompt: true,
  })).token_ids;
  const at = firstDifference(engineIds, trainerIds);
  if (at < 0) return undefined;
  return new Error(
    `Cannot train role "${role}" on vLLM engine at ${url}: ${
      templateDifference(at, engineIds, trainerIds)
    } for the role's messages; ${TEMPLATE_FIX}`,
  );
}

function templateDifference(
  at: number,
  engine: readonly number[],
  trainer: readonly number[],
): string {
  return `the engine's prompt token ids differ from the trainer's rendering at token ${at} (engine ${
    engine[at] ?? "end"
  }, trainer ${trainer[at] ?? "end"})`;
}
