import { dirname, isAbsolute, join, normalize } from "node:path";
import { Liquid } from "liquidjs";
import type { GraphDataset } from "../dsl/mod.ts";
import { outsideScope } from "../dsl/mod.ts";
import { readCapped } from "./read_capped.ts";

/** One dataset row, mapped through `dataset.fields`. */
export interface Task {
  readonly id: string;
  readonly index: number;
  readonly split: string;
  readonly category: string | null;
  /** Template-visible fields (`task.<name>`). */
  readonly inputs: Readonly<Record<string, string>>;
  /** The expected answer, for graders and coaches allowed outcome facts; never shown to agents. */
  readonly answer: unknown;
  /** Input files to seed the workspace with: absolute or cwd-relative source, workspace name. */
  readonly files: readonly { readonly from: string; readonly as: string }[];
  readonly row: unknown;
  /** The folder of the dataset file the row came from (absent for a URL): relative paths in a row are relative to it. */
  readonly dir?: string;
}

/** A dataset that cannot be used: every bad row is listed, with how to fix it. */
export class DatasetError extends Error {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(
      problems.length > 0
        ? `${message}:\n  ${problems.slice(0, 20).join("\n  ")}`
        : message,
    );
    this.name = "DatasetError";
    this.problems = problems;
  }
}

/**
 * The part of a compiled dataset that confines the runtime: `read_roots`, the folders and files
 * (symlinks resolved) it may read: the spec's folder, `--allow-read` paths, fetched bundles. `compile`
 * sets it on every graph's dataset; absent (a graph built by hand), nothing is confined.
 */
export type ReadRoots = Pick<GraphDataset, "read_roots">;

/**
 * Why the runtime may not read `path` for this dataset (outside `dataset.read_roots`, the spec's folder
 * and what --allow-read named, symlinks resolved; or under /proc, /sys, /dev), or undefined when it may.
 * A graph without read_roots (built by hand) is not confined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unreadable } from "./load_tasks.ts";
 * const dataset = { read_roots: [Deno.cwd()] } as never;
 * assert.equal(unreadable(dataset, "README.md"), undefined);
 * assert.match(unreadable(dataset, "/etc/passwd")!, /outside/);
 * ```
 */
export function unreadable(
  dataset: ReadRoots,
  path: string,
): string | undefined {
  const roots = dataset.read_roots;
  if (roots === undefined) return undefined;
  return outsideScope(path, { root: roots[0] ?? ".", roots });
}

/** Refuses, as a `DatasetError`, a path the runtime may not read for this dataset (see `unreadable`). */
export function assertReadable(
  dataset: ReadRoots,
  path: string,
  what: string,
): void {
  const why = unreadable(dataset, path);
  if (why !== undefined) {
    throw new DatasetError(
      `Cannot read ${what} "${path}": ${why}; copy it into the spec's folder or name it with --allow-read`,
    );
  }
}

/** Reads a dotted path; a string holding a JSON object is parsed on the way (DSBench's metadata). */
export function getPath(row: unknown, path: string): unknown {
  let value = row;
  for (const part of path.split(".")) {
    if (typeof value === "string" && value.trimStart().startsWith("{")) {
      try {
        value = JSON.parse(value);
      } catch { /* not JSON: keep the string */ }
    }
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Largest dataset file downloaded, in bytes. */
const MAX_URL_BYTES = 256 * 1024 * 1024;
/** Longest a dataset download may take, in milliseconds. */
const URL_TIMEOUT_MS = 120_000;

async function readSource(source: string, isUrl: boolean): Promise<string> {
  if (!isUrl) {
    try {
      return await Deno.readTextFile(source);
    } catch (e) {
      throw new DatasetError(
        `Cannot read dataset file "${source}": ${
          e instanceof Deno.errors.NotFound ? "no such file" : String(e)
        }`,
      );
    }
  }
  const res = await fetch(source, {
    signal: AbortSignal.timeout(URL_TIMEOUT_MS),
  }).catch((e) => {
    throw new DatasetError(`Cannot download dataset "${source}": ${e}`);
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new DatasetError(
      `Cannot download dataset "${source}": HTTP ${res.status}`,
    );
  }
  const bytes = await readCapped(res, MAX_URL_BYTES);
  if (bytes === undefined) {
    throw new DatasetError(
      `Cannot download dataset "${source}": it is larger than ${MAX_URL_BYTES} bytes; split it or download it yourself`,
    );
  }
  return new TextDecoder().decode(bytes);
}

/** Parses JSON (an array of rows) or JSONL (one row per line), by declared format or content. */
export function parseRows(
  text: string,
  source: string,
  format: "json" | "jsonl" | "auto",
): unknown[] {
  const trimmed = text.trimStart();
  const asJson = format === "json" ||
    (format === "auto" && trimmed.startsWith("["));
  if (asJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new DatasetError(
        `Cannot parse dataset "${source}" as JSON: ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
    if (!Array.isArray(parsed)) {
      throw new DatasetError(
        `Cannot use dataset "${source}": a JSON dataset must be an array of rows`,
      );
    }
    return parsed;
  }
  const rows: unknown[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line));
    } catch (e) {
      problems.push(`line ${i + 1}: ${e instanceof Error ? e.message : e}`);
    }
  });
  if (problems.length > 0) {
    throw new DatasetError(
      `Cannot parse dataset "${source}" as JSON Lines (one JSON object per line)`,
      problems,
    );
  }
  return rows;
}

function normalizeText(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

function asString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

const liquid = new Liquid({ strictVariables: true });

async function tasksOf(
  dataset: GraphDataset,
  split: string,
  rows: unknown[],
  source: string,
  dir: string | undefined,
): Promise<Task[]> {
  const fields = dataset.fields;
  const problems: string[] = [];
  const tasks: Task[] = [];
  const seen = new Map<string, number>();
  for (const [index, row] of rows.entries()) {
    const where = `${source} row ${index + 1}`;
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      problems.push(`${where}: a row must be a JSON object`);
      continue;
    }
    const rawId = fields.id === undefined ? index : getPath(row, fields.id);
    if (rawId === undefined || rawId === null || rawId === "") {
      problems.push(`${where}: no id at "${fields.id}" (dataset.fields.id)`);
      continue;
    }
    const id = asString(rawId);
    if (seen.has(id)) {
      problems.push(
        `${where}: id "${id}" repeats row ${
          seen.get(id)! + 1
        }; ids must be unique within a split`,
      );
      continue;
    }
    seen.set(id, index);
    const inputs: Record<string, string> = {};
    for (const [name, path] of Object.entries(fields.inputs)) {
      const value = getPath(row, path);
      if (value === undefined) {
        problems.push(
          `${where}: no field "${path}" for input "${name}" (dataset.fields.inputs)`,
        );
      }
      inputs[name] = asString(value);
    }
    const category = fields.category === undefined
      ? null
      : asString(getPath(row, fields.category)) || null;
    const context = { task: { id, category, ...inputs } };
    const files: { from: string; as: string }[] = [];
    for (const f of dataset.files) {
      if ("field" in f) {
        const from = getPath(row, f.field);
        if (typeof from !== "string" || from === "") {
          problems.push(`${where}: no file path at "${f.field}" for ${f.as}`);
        } else {
          // Like an answers path, a row's relative path is relative to its dataset file.
          files.push({
            from: isAbsolute(from) || dir === undefined
              ? from
              : join(dir, from),
            as: f.as,
          });
        }
      } else {
        try {
          files.push({
            from: await liquid.parseAndRender(f.path, context),
            as: f.as,
          });
        } catch (e) {
          problems.push(
            `${where}: cannot render file path "${f.path}": ${
              e instanceof Error ? e.message : e
            }`,
          );
        }
      }
    }
    for (const f of files) {
      const why = unreadable(dataset, f.from);
      if (why !== undefined) {
        problems.push(`${where}: cannot read input file "${f.from}": ${why}`);
      }
    }
    const answer = fields.answer === undefined
      ? undefined
      : getPath(row, fields.answer);
    tasks.push({
      id,
      index,
      split,
      category,
      inputs,
      answer,
      files,
      row,
      ...(dir !== undefined ? { dir } : {}),
    });
  }
  if (problems.length > 0) {
    throw new DatasetError(
      `Cannot use split "${split}" of ${source}`,
      problems,
    );
  }
  return tasks;
}

/** Options for `loadTasks`. */
export interface LoadTasksOptions {
  /** Keep at most this many tasks (after the split's own limit). */
  limit?: number;
}

/** The tasks of one split, with `exclude_overlap_with` applied; reports how many overlapping rows were dropped. */
export async function loadTasks(
  dataset: GraphDataset,
  split: string,
  options: LoadTasksOptions = {},
): Promise<{ tasks: Task[]; excluded: number }> {
  const declared = dataset.splits[split];
  if (!declared) {
    throw new DatasetError(
      `Cannot load split "${split}": the spec declares ${
        Object.keys(dataset.splits).map((s) => `"${s}"`).join(", ")
      }`,
    );
  }
  for (
    const s of [
      declared,
      ...declared.exclude_overlap_with.map((o) => dataset.splits[o]),
    ]
  ) {
    if (s && !s.is_url) assertReadable(dataset, s.source, "dataset file");
  }
  const rows = parseRows(
    await readSource(declared.source, declared.is_url),
    declared.source,
    declared.format,
  );
  const dir = declared.is_url ? undefined : dirname(declared.source);
  if (dir !== undefined) await checkManifest(dir, declared.source);
  let tasks = await tasksOf(dataset, split, rows, declared.source, dir);
  let excluded = 0;
  if (declared.exclude_overlap_with.length > 0) {
    const keyOf = (t: Task) =>
      normalizeText(Object.values(t.inputs).join("\n"));
    const others = new Set<string>();
    for (const other of declared.exclude_overlap_with) {
      const o = dataset.splits[other]!;
      const otherRows = parseRows(
        await readSource(o.source, o.is_url),
        o.source,
        o.format,
      );
      const oDir = o.is_url ? undefined : dirname(o.source);
      for (
        const t of await tasksOf(dataset, other, otherRows, o.source, oDir)
      ) {
        others.add(keyOf(t));
      }
    }
    const before = tasks.length;
    tasks = tasks.filter((t) => !others.has(keyOf(t)));
    excluded = before - tasks.length;
  }
  if (declared.limit !== undefined) tasks = tasks.slice(0, declared.limit);
  if (options.limit !== undefined) tasks = tasks.slice(0, options.limit);
  return { tasks, excluded };
}

/** Largest manifest.json read, in bytes. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

async function sha256Hex(path: string): Promise<string | null> {
  const bytes = await Deno.readFile(path).catch(() => null);
  if (bytes === null) return null;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Refuses a dataset folder whose files do not match its `manifest.json` (written by a task builder such
 * as tools/dsbench_build.py: `{seed, files: {<relative path>: {sha256}}}`), naming both, so answers of
 * one build are never graded against the tasks of another. A folder without a manifest is not checked.
 */
export async function checkManifest(
  dir: string,
  source: string,
): Promise<void> {
  const path = join(dir, "manifest.json");
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) return;
  if (!info.isFile || info.size > MAX_MANIFEST_BYTES) {
    throw new DatasetError(
      `Cannot use the manifest "${path}": not a file of at most ${MAX_MANIFEST_BYTES} bytes`,
    );
  }
  let manifest: { seed?: unknown; files?: unknown };
  try {
    manifest = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new DatasetError(
      `Cannot parse the manifest "${path}": ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
  const files = manifest.files;
  if (files === null || typeof files !== "object" || Array.isArray(files)) {
    throw new DatasetError(
      `Cannot use the manifest "${path}": no "files" object of {path: {sha256}}`,
    );
  }
  const seed = manifest.seed === undefined ? "" : ` (seed ${manifest.seed})`;
  const problems: string[] = [];
  for (const [rel, entry] of Object.entries(files as Record<string, unknown>)) {
    const want = (entry as { sha256?: unknown } | null)?.sha256;
    if (
      isAbsolute(rel) || normalize(rel).split(/[\\/]/).includes("..") ||
      typeof want !== "string"
    ) {
      problems.push(
        `"${rel}": not a relative path inside the folder with a sha256`,
      );
      continue;
    }
    const got = await sha256Hex(join(dir, rel));
    if (got === null) problems.push(`"${join(dir, rel)}": no such file`);
    else if (got !== want) {
      problems.push(
        `"${join(dir, rel)}" has sha256 ${
          got.slice(0, 12)
        }…, the manifest says ${want.slice(0, 12)}…`,
      );
    }
  }
  if (problems.length > 0) {
    throw new DatasetError(
      `Cannot use ${source}: its files do not match the manifest "${path}"${seed}; rebuild the task set (e.g. deno task dsbench:build --out ${dir} --seed N) or point the spec at the folder it was built in`,
      problems,
    );
  }
}
