import {
  basename,
  dirname,
  isAbsolute,
  join,
  normalize,
  relative,
  resolve,
} from "node:path";
import {
  BUNDLE_LIMITS,
  BundleError,
  encodeBundle,
  sha256Hex,
} from "../dsl/mod.ts";
import { compileFile, type CompileResult } from "../dsl/mod.ts";
import { readSpecFile } from "../dsl/mod.ts";
import { outsideScope, readScope } from "../dsl/mod.ts";
import type { ExecutionGraph } from "../dsl/mod.ts";
import { DatasetError, loadTasks } from "./load_tasks.ts";

/** Options for `makeBundle`. */
export interface MakeBundleOptions {
  /** Leave the dataset files out (splits, task input files, answers): the consumer must have them. */
  noData?: boolean;
  /** Paths outside the spec's folder it may read: compiled with them, then named as not bundleable. */
  allowRead?: readonly string[];
  /** Bases fetched before compiling (pinned URLs): they stay URLs in the bundle, not files. */
  fetched?: ReadonlyMap<string, string>;
}

/** What `makeBundle` returns: the bundle text and what it holds, or the spec's diagnostics. */
export type MadeBundle =
  | {
    readonly ok: true;
    readonly text: string;
    readonly sha256: string;
    readonly files: readonly string[];
    readonly bytes: number;
  }
  | { readonly ok: false; readonly compiled: CompileResult & { ok: false } };

/** Adds every regular file under `dir` (links are refused: a bundle holds files, not where they point). */
async function addFolder(
  dir: string,
  add: (path: string) => void,
): Promise<void> {
  let count = 0;
  const walk = async (at: string) => {
    for await (const e of Deno.readDir(at)) {
      const path = join(at, e.name);
      if (e.isSymlink) {
        throw new BundleError(
          `Cannot bundle the link "${path}": a bundle holds files, not links; replace it with the file`,
        );
      }
      if (e.isDirectory) await walk(path);
      else if (e.isFile) {
        if (++count > BUNDLE_LIMITS.files) {
          throw new BundleError(
            `Cannot bundle the folder "${dir}": it holds more than ${BUNDLE_LIMITS.files} files; leave the data out (--no-data) or share it by URL`,
          );
        }
        add(path);
      }
    }
  };
  await walk(dir);
}

/** The local data a graph reads: split files (their folder, when it is not the root) and task inputs. */
async function addData(
  dataset: {
    splits: Record<string, { source: string; is_url: boolean }>;
    files: readonly ({ path: string } | { field: string })[];
  },
  root: string,
  add: (path: string) => void,
): Promise<void> {
  const folders = new Set<string>();
  for (const split of Object.values(dataset.splits)) {
    if (split.is_url) continue;
    add(split.source);
    // The split's folder holds what its rows name (input files, answers, manifest.json), unless it is
    // the spec's own folder, where only the split file is taken.
    if (resolve(dirname(split.source)) !== resolve(root)) {
      folders.add(dirname(split.source));
    }
  }
  for (const f of dataset.files) {
    if (!("path" in f)) continue;
    if (!f.path.includes("{{")) {
      add(f.path);
      continue;
    }
    const fixed = dirname(f.path.split("{{")[0]! + "x");
    if (resolve(fixed) !== resolve(root)) folders.add(fixed);
  }
  for (const dir of folders) {
    const info = await Deno.lstat(dir).catch(() => null);
    if (info?.isDirectory) await addFolder(dir, add);
  }
}

/** Every task's input file, as the runtime would seed it (a row's own path, a rendered template). */
async function addTaskFiles(
  graph: ExecutionGraph,
  add: (path: string) => void,
): Promise<void> {
  if (graph.dataset.files.length === 0) return;
  for (const [name, split] of Object.entries(graph.dataset.splits)) {
    // A missing split is named below, with the other files.
    if (split.is_url || !(await Deno.stat(split.source).catch(() => null))) {
      continue;
    }
    try {
      const { tasks } = await loadTasks(graph.dataset, name);
      for (const task of tasks) for (const f of task.files) add(f.from);
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e;
      throw new BundleError(
        `Cannot bundle the tasks of split "${name}": ${
          e.message.split("\n")[0]
        }; fix the data or leave it out with --no-data`,
      );
    }
  }
}

/**
 * Makes one self-contained file of a YAML/JSON spec: the spec, its extends bases, every file:// include,
 * JSON Schemas, the demo policy and model scripts, and (unless `noData`) its local dataset (each split's
 * folder). Paths inside are relative to the spec's folder, which everything must be in; a base named by
 * pinned URL stays a URL. A TS spec is refused: it is a program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeBundle } from "./make_bundle.ts";
 * const made = await makeBundle("pipelines/relay.yaml");
 * assert.ok(made.ok && made.files.includes("relay.yaml"));
 * ```
 */
export async function makeBundle(
  spec: string,
  options: MakeBundleOptions = {},
): Promise<MadeBundle> {
  if (/\.(ts|mts|js|mjs)$/.test(spec)) {
    throw new BundleError(
      `Cannot bundle the TS spec "${spec}": a TS spec is a program, and a shared spec must be data; write it as YAML (the same keys) to share it`,
    );
  }
  const read = new Set<string>();
  const compiled = compileFile(spec, {
    readFile: (p) => {
      const text = readSpecFile(p);
      read.add(p);
      return text;
    },
    ...(options.fetched ? { fetched: options.fetched } : {}),
    ...(options.allowRead ? { allowRead: options.allowRead } : {}),
  });
  if (!compiled.ok) return { ok: false, compiled };
  const root = dirname(normalize(spec));
  const scope = readScope(root);
  const fetchedDirs = [...(options.fetched?.values() ?? [])].map((p) =>
    readScope(dirname(p))
  );
  const paths = new Set<string>();
  const add = (path: string) => {
    const why = outsideScope(path, scope);
    if (why === undefined) {
      paths.add(relative(resolve(root), resolve(path)).split("\\").join("/"));
      return;
    }
    // A fetched base stays its pinned URL in the bundle: the consumer fetches it.
    if (fetchedDirs.some((s) => outsideScope(path, s) === undefined)) return;
    throw new BundleError(
      `Cannot bundle "${path}": ${why}; a bundle holds only files inside the spec's folder, so copy it there`,
    );
  };
  const graph = compiled.graph;
  for (const source of compiled.sources.keys()) add(source);
  for (const path of read) add(path);
  if (graph.demo !== undefined) add(graph.demo);
  for (const model of Object.values(graph.models)) {
    if (model.script === undefined) continue;
    const path = isAbsolute(model.script)
      ? model.script
      : join(root, model.script);
    if (await Deno.stat(path).then((i) => i.isFile, () => false)) add(path);
  }
  if (!options.noData) {
    await addData(graph.dataset, root, add);
    await addTaskFiles(graph, add);
  }
  const files = new Map<string, Uint8Array>();
  for (const rel of [...paths].sort()) {
    const path = join(root, rel);
    const info = await Deno.lstat(path).catch(() => null);
    if (info === null || !info.isFile) {
      throw new BundleError(
        `Cannot bundle "${path}": ${
          info === null ? "no such file" : "it is not a regular file (a link?)"
        }; build the data first or leave it out with --no-data`,
      );
    }
    files.set(rel, await Deno.readFile(path));
  }
  const text = encodeBundle(basename(spec), files);
  let bytes = 0;
  for (const b of files.values()) bytes += b.length;
  const head = /\nsha256: ([0-9a-f]{64})\n/.exec(text);
  return {
    ok: true,
    text,
    sha256: head?.[1] ?? sha256Hex(text),
    files: [...files.keys()],
    bytes,
  };
}
