import { join } from "node:path";
import { z } from "zod";
import type { ExecutionGraph } from "../dsl/mod.ts";
import type { RunSummary } from "./run_summary.ts";
import { RunStoreError } from "./run_store_error.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";

/** How a run stands, as its manifest records it. */
export const RunStatusSchema = z.enum([
  "running",
  "completed",
  "interrupted",
  "error",
]);

/** What a run was asked to run: `args` in manifest.json, read back on resume and by rescoring. */
export const ManifestArgsSchema = z.looseObject({
  split: z.string().optional(),
  limit: z.number().optional(),
  task_ids: z.array(z.string()).optional(),
  samples_per_task: z.number().optional(),
});

/**
 * `runs/<run_id>/manifest.json` (DESIGN.md decision 6). Every key is optional and unknown keys are kept:
 * manifests written before this schema, or by hand in fixtures, still read; a key present with the wrong
 * type is refused.
 */
export const ManifestSchema = z.looseObject({
  run_id: z.string().optional(),
  created_at: z.string().optional(),
  status: RunStatusSchema.optional(),
  /** Whether a model endpoint or the pipeline's scripted demo policy answered. */
  policy: z.enum(["model", "demo"]).optional(),
  policy_note: z.string().optional(),
  spec_file: z.string().optional(),
  spec_hash: z.string().optional(),
  args: ManifestArgsSchema.optional(),
  environment: z.record(z.string(), z.unknown()).optional(),
  sandbox_backend: z.string().optional(),
  /** The compiled graph with secrets redacted; an object, its shape not checked again here. */
  graph: z.custom<ExecutionGraph>(isObject, "expected an object").optional(),
  resumed_at: z.string().optional(),
  finished_at: z.string().optional(),
  /** The closing RunSummary (older runs may lack newer counts). */
  summary: z.custom<Partial<RunSummary>>(isObject, "expected an object")
    .optional(),
});

function isObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A run's manifest.json. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** The name of the manifest file inside a run directory. */
export const MANIFEST_FILE = "manifest.json";

const FIX =
  "pass a run directory that `mappa run` wrote, such as runs/<run_id>";

/**
 * Reads and checks a run directory's manifest.json; `action` names what the caller was doing, for the
 * message. Throws RunStoreError (its `cause` the file system's error when the file cannot be read).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunManifest } from "./manifest.ts";
 * import { RunStoreError } from "./run_store_error.ts";
 * await assert.rejects(readRunManifest("/nonexistent", "load"), RunStoreError);
 * ```
 */
export async function readRunManifest(
  dir: string,
  action = "read",
): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new RunStoreError(
      `Cannot ${action} run ${dir}: its manifest.json is missing or unreadable (${
        e instanceof Error ? e.message : e
      }); ${FIX}`,
      dir,
      { cause: e },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RunStoreError(
      `Cannot ${action} run ${dir}: its manifest.json is not JSON (${
        e instanceof Error ? e.message : e
      }); restore ${path} or ${FIX}`,
      dir,
      { cause: e },
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunStoreError(
      `Cannot ${action} run ${dir}: its manifest.json is not a run manifest (${
        issue?.path.length ? issue.path.join(".") : "the file"
      }: ${issue?.message ?? "invalid"}); restore ${path} or ${FIX}`,
      dir,
    );
  }
  // The file's own object, not zod's copy: a rewrite keeps its keys in their order.
  return json as Manifest;
}

/**
 * Writes a run directory's manifest.json whole (through a temporary file and a rename), after checking it
 * against ManifestSchema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRunManifest, writeRunManifest } from "./manifest.ts";
 * const dir = await Deno.makeTempDir();
 * await writeRunManifest(dir, { run_id: "demo__0__1", status: "running" });
 * assert.equal((await readRunManifest(dir)).status, "running");
 * ```
 */
export async function writeRunManifest(
  dir: string,
  manifest: Manifest,
): Promise<void> {
  const parsed = ManifestSchema.safeParse(manifest);
  if (!parsed.success) {
    // A programmer error: the runtime built a manifest its own schema rejects.
    const issue = parsed.error.issues[0];
    throw new TypeError(
      `Cannot write the manifest of run ${dir}: ${
        issue?.path.join(".") || "manifest"
      }: ${issue?.message ?? "invalid"}`,
    );
  }
  await writeFileAtomic(
    join(dir, MANIFEST_FILE),
    JSON.stringify(manifest, null, 2) + "\n",
  );
}
