import { join } from "node:path";
import { type Verdict, VerdictSchema } from "./types.ts";
import {
  isFinalVerdict,
  layerName,
  layerPath,
  parseLayer,
  readLayerText,
  ScoreLayerError,
  SCORES_DIR,
  type VerdictKey,
  verdictKey,
} from "./score_layer_format.ts";

const encoder = new TextEncoder();

/**
 * Appends verdicts to one layer: each validated with `VerdictSchema`, appends serialised so concurrent
 * callers never interleave a line, and at most one verdict per action, so rescoring with the same rubric
 * version adds only the actions the layer lacks. Opening drops a torn last line left by a crash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScoreLayerWriter } from "./score_layer.ts";
 * const layer = await ScoreLayerWriter.open(await Deno.makeTempDir(), { name: "math", hash: "abc" });
 * assert.equal(layer.name, "math@abc");
 * assert.equal(layer.has({ episode_id: "e1", attempt: 1, action_index: 0 }), false);
 * await layer.close();
 * ```
 */
export class ScoreLayerWriter {
  /** `<rubric-name>@<rubric-hash>`. */
  readonly name: string;
  readonly path: string;
  readonly rubric: { readonly name: string; readonly hash: string };
  /** Bytes of a torn last line dropped on opening. */
  readonly repairedBytes: number;
  readonly #keys: Set<string>;
  readonly #file: Deno.FsFile;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    rubric: { readonly name: string; readonly hash: string },
    path: string,
    file: Deno.FsFile,
    keys: Set<string>,
    repairedBytes: number,
  ) {
    this.rubric = { name: rubric.name, hash: rubric.hash };
    this.name = layerName(rubric);
    this.path = path;
    this.#file = file;
    this.#keys = keys;
    this.repairedBytes = repairedBytes;
  }

  /** Opens (or creates) the layer of `rubric` in `runDir`, reading the actions it already holds. */
  static async open(
    runDir: string,
    rubric: { readonly name: string; readonly hash: string },
  ): Promise<ScoreLayerWriter> {
    const path = layerPath(runDir, layerName(rubric));
    await Deno.mkdir(join(runDir, SCORES_DIR), { recursive: true });
    const text = await readLayerText(path) ?? "";
    const parsed = parseLayer(text, path);
    if (parsed.tornBytes > 0) await Deno.truncate(path, parsed.keptBytes);
    const file = await Deno.open(path, { create: true, append: true });
    if (parsed.needsNewline) await file.write(encoder.encode("\n"));
    const keys = new Set(
      parsed.verdicts.filter(isFinalVerdict).map(verdictKey),
    );
    return new ScoreLayerWriter(rubric, path, file, keys, parsed.tornBytes);
  }

  /** Number of actions the layer holds, counting appends still being written. */
  get size(): number {
    return this.#keys.size;
  }

  /** Whether the layer already holds (or is writing) a final verdict for this action (see isFinalVerdict). */
  has(key: VerdictKey): boolean {
    return this.#keys.has(verdictKey(key));
  }

  /**
   * Validates and appends one verdict; resolves `true` once written, or `false` without writing when the
   * layer already holds that action. Rejects with `TypeError` for an invalid verdict or another rubric's.
   */
  append(verdict: Verdict): Promise<boolean> {
    if (this.#closed) {
      return Promise.reject(
        new ScoreLayerError(
          `Cannot append to score layer "${this.name}": it is closed`,
          this.path,
        ),
      );
    }
    const parsed = VerdictSchema.safeParse(verdict);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return Promise.reject(
        new TypeError(
          `Cannot append a verdict to score layer "${this.name}": ${
            issue?.path.join(".") || "record"
          }: ${issue?.message ?? "invalid"}`,
        ),
      );
    }
    const v = parsed.data;
    if (
      v.rubric.name !== this.rubric.name || v.rubric.hash !== this.rubric.hash
    ) {
      return Promise.reject(
        new TypeError(
          `Cannot append a verdict to score layer "${this.name}": it was scored under rubric "${
            layerName(v.rubric)
          }"`,
        ),
      );
    }
    const key = verdictKey(v);
    if (this.#keys.has(key)) return Promise.resolve(false);
    // A retryable unscored verdict is written but leaves the action open for the next rescore.
    if (isFinalVerdict(v)) this.#keys.add(key);
    const line = encoder.encode(JSON.stringify(v) + "\n");
    const write = this.#queue.then(async () => {
      let off = 0;
      while (off < line.length) {
        off += await this.#file.write(line.subarray(off));
      }
    });
    this.#queue = write.catch(() => {});
    return write.then(() => true, (e) => {
      this.#keys.delete(key);
      throw new ScoreLayerError(
        `Cannot append to score layer ${this.path}: ${
          e instanceof Error ? e.message : e
        }`,
        this.path,
        { cause: e },
      );
    });
  }

  /** Waits for pending appends and closes the file; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#file.syncData();
    this.#file.close();
  }
}
