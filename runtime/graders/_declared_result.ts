import { Ajv } from "ajv";
import type { GraphOutcome } from "../../dsl/mod.ts";
import type { Grade, GradeInput } from "./grade.ts";
import { UngradedError } from "./ungraded_error.ts";

/** A metric as a command or function grader declares it. */
interface MetricDecl {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/** Characters kept of a grader's `reason` and `summary`. */
const MAX_TEXT = 4000;

/**
 * The JSON Schema a command or function grader's result must satisfy: `metrics` with every declared
 * metric, a number within its declared range, and no other (with `valid: false`, not read); optional
 * `valid`, `reason`, `summary`, `answer`; nothing else.
 */
export function declaredResultSchema(
  metrics: Readonly<Record<string, MetricDecl>>,
): Record<string, unknown> {
  // One object per declaration, so the validator compiled for it (keyed by the schema) is reused.
  let schema = schemas.get(metrics);
  if (schema === undefined) {
    schema = buildSchema(metrics);
    schemas.set(metrics, schema);
  }
  return schema;
}

const schemas = new WeakMap<object, Record<string, unknown>>();

function buildSchema(
  metrics: Readonly<Record<string, MetricDecl>>,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(metrics)) {
    properties[name] = {
      type: "number",
      ...(m.min !== undefined ? { minimum: m.min } : {}),
      ...(m.max !== undefined ? { maximum: m.max } : {}),
    };
  }
  const strict = {
    type: "object",
    required: Object.keys(metrics),
    additionalProperties: false,
    properties,
  };
  return {
    type: "object",
    // A result that says it is invalid gets the fair values: its metrics are not read, nor required.
    if: { properties: { valid: { const: false } }, required: ["valid"] },
    then: { properties: { metrics: { type: "object" } } },
    else: { required: ["metrics"], properties: { metrics: strict } },
    additionalProperties: false,
    properties: {
      metrics: {},
      valid: { type: "boolean" },
      reason: { type: "string" },
      summary: { type: "string" },
      answer: {},
    },
  };
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** Checks a function grader's returned value like a command grader's printed JSON; throws `UngradedError`. */
export function checkDeclaredResult(
  value: unknown,
  metrics: Readonly<Record<string, MetricDecl>>,
  source: string,
): void {
  const raw = (value as { metrics?: unknown } | null)?.metrics;
  const invalid = (value as { valid?: unknown } | null)?.valid === false;
  if (!invalid && raw !== null && typeof raw === "object") {
    for (const [name, v] of Object.entries(raw)) {
      if (typeof v === "number" && !Number.isFinite(v)) {
        throw new UngradedError(
          "grader_invalid_output",
          `${source} returned metric "${name}" = ${v}: metrics must be finite numbers`,
        );
      }
    }
  }
  let validate = validators.get(metrics);
  if (validate === undefined) {
    validate = ajv.compile(declaredResultSchema(metrics));
    validators.set(metrics, validate);
  }
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const extra = e?.params && "additionalProperty" in e.params
      ? ` ("${e.params.additionalProperty}")`
      : "";
    throw new UngradedError(
      "grader_invalid_output",
      `${source} returned a result that does not match its declared metrics: ${
        e?.instancePath ? `at "${e.instancePath}" ` : ""
      }${e?.message ?? "invalid"}${extra}`,
    );
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/**
 * The grade of a command or function grader's checked result: its metrics when valid; the outcome's
 * fair values when the grader said `valid: false` (the agents produced nothing gradable).
 */
export function gradeOfResult(
  value: {
    readonly metrics?: Readonly<Record<string, number>>;
    readonly valid?: boolean;
    readonly reason?: string;
    readonly summary?: string;
    readonly answer?: unknown;
  },
  outcome: GraphOutcome,
  input: GradeInput,
): Grade {
  const valid = value.valid ?? true;
  const shown = Object.entries(value.metrics ?? {}).map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return {
    valid,
    correct: null,
    metrics: valid ? { ...value.metrics } : { ...outcome.fair },
    // (a valid result always has its metrics: the schema requires them)
    fair: !valid,
    answer: value.answer ?? null,
    expected: input.task.answer ?? null,
    ...(!valid
      ? { reason: clip(value.reason ?? "the grader found no gradable result") }
      : {}),
    summary: clip(value.summary ?? `Metrics: ${shown}.`),
  };
}
