import { join } from "node:path";
import { type RunEvent, type RunEventInput, RunEventSchema } from "./events.ts";

const encoder = new TextEncoder();

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest(
    "SHA-256",
    bytes as BufferSource,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${globalThis.crypto.randomUUID()}`;
  await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/** What a resumed run already holds. */
export interface RunState {
  readonly events: readonly RunEvent[];
  /** Episode ids with a completed `episode_finished` event. */
  readonly finished: ReadonlySet<string>;
  /** Highest attempt started per episode. */
  readonly attempts: ReadonlyMap<string, number>;
  /** Bytes of a torn last line that were dropped. */
  readonly repairedBytes: number;
}

/** Thrown when a run directory cannot be created, read or resumed. */
export class RunStoreError extends Error {
  readonly path: string;
  constructor(message: string, path: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunStoreError";
    this.path = path;
  }
}

/**
 * One run directory: `manifest.json`, append-only `events.jsonl` (each record validated), and
 * content-addressed `blobs/`. Appends are serialised, so concurrent episodes never interleave a line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RunStore } from "./run_store.ts";
 * const store = await RunStore.create(await Deno.makeTempDir(), "demo__0__1", { run_id: "demo__0__1" });
 * const event = await store.append({ kind: "run_started", role: null, resumed: false });
 * assert.equal(event.step, 0);
 * assert.equal(await store.putBlob("hi"), await store.putBlob(new TextEncoder().encode("hi")));
 * await store.close();
 * ```
 */
export class RunStore {
  readonly dir: string;
  readonly runId: string;
  #file: Deno.FsFile;
  #step: number;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #listeners: ((event: RunEvent) => void)[] = [];

  private constructor(
    dir: string,
    runId: string,
    file: Deno.FsFile,
    step: number,
  ) {
    this.dir = dir;
    this.runId = runId;
    this.#file = file;
    this.#step = step;
  }

  /** Creates `<root>/<runId>/` with its manifest; fails if the directory already exists. */
  static async create(
    root: string,
    runId: string,
    manifest: Record<string, unknown>,
  ): Promise<RunStore> {
    const dir = join(root, runId);
    try {
      await Deno.mkdir(dir, { recursive: false });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new RunStoreError(
          `Cannot create run "${runId}": ${dir} already exists`,
          dir,
          { cause: e },
        );
      }
      if (e instanceof Deno.errors.NotFound) {
        await Deno.mkdir(root, { recursive: true });
        return RunStore.create(root, runId, manifest);
      }
      throw e;
    }
    await Deno.mkdir(join(dir, "blobs"), { recursive: true });
    await writeAtomic(
      join(dir, "manifest.json"),
      encoder.encode(JSON.stringify(manifest, null, 2) + "\n"),
    );
    const file = await Deno.open(join(dir, "events.jsonl"), {
      create: true,
      append: true,
    });
    return new RunStore(dir, runId, file, 0);
  }

  /** Opens an existing run to resume it, dropping a torn last line left by a crash. */
  static async open(
    dir: string,
  ): Promise<
    { store: RunStore; manifest: Record<string, unknown>; state: RunState }
  > {
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(
        await Deno.readTextFile(join(dir, "manifest.json")),
      );
    } catch (e) {
      throw new RunStoreError(
        `Cannot resume run ${dir}: its manifest.json is missing or unreadable (${
          e instanceof Error ? e.message : e
        })`,
        dir,
        { cause: e },
      );
    }
    const path = join(dir, "events.jsonl");
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    let repairedBytes = 0;
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline !== text.length - 1) {
      const kept = text.slice(0, lastNewline + 1);
      repairedBytes = encoder.encode(text).length - encoder.encode(kept).length;
      text = kept;
      await Deno.truncate(path, encoder.encode(kept).length);
    }
    const events: RunEvent[] = [];
    for (const [i, line] of text.split("\n").entries()) {
      if (line.trim() === "") continue;
      const parsed = RunEventSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new RunStoreError(
          `Cannot resume run ${dir}: events.jsonl line ${
            i + 1
          } is not a valid event`,
          dir,
        );
      }
      events.push(parsed.data);
    }
    const finished = new Set<string>();
    const attempts = new Map<string, number>();
    for (const e of events) {
      if (e.kind === "episode_started") {
        attempts.set(
          e.episode_id,
          Math.max(attempts.get(e.episode_id) ?? 0, e.attempt),
        );
      }
      // A failed episode (the runtime could not run it) runs again on resume, as a new attempt.
      if (e.kind === "episode_finished" && e.status === "completed") {
        finished.add(e.episode_id);
      }
    }
    const runId = String(manifest.run_id ?? dir.split("/").at(-1));
    const file = await Deno.open(path, { create: true, append: true });
    const step = events.length === 0 ? 0 : events[events.length - 1]!.step + 1;
    return {
      store: new RunStore(dir, runId, file, step),
      manifest,
      state: { events, finished, attempts, repairedBytes },
    };
  }

  /** Validates and appends one event; resolves once it is written. */
  append(event: RunEventInput): Promise<RunEvent> {
    if (this.#closed) {
      return Promise.reject(
        new RunStoreError(
          `Cannot append to run ${this.runId}: it is closed`,
          this.dir,
        ),
      );
    }
    const full = {
      run_id: this.runId,
      step: this.#step++,
      ts: new Date().toISOString(),
      ...event,
    };
    const parsed = RunEventSchema.safeParse(full);
    if (!parsed.success) {
      // A programmer error: the runtime built an event its own schema rejects.
      return Promise.reject(
        new TypeError(
          `Cannot record a "${event.kind}" event: ${
            parsed.error.issues[0]?.message ?? "invalid"
          }`,
        ),
      );
    }
    const line = encoder.encode(JSON.stringify(parsed.data) + "\n");
    const write = this.#queue.then(async () => {
      let off = 0;
      while (off < line.length) {
        off += await this.#file.write(line.subarray(off));
      }
    });
    this.#queue = write.catch(() => {});
    return write.then(() => {
      for (const listen of this.#listeners) listen(parsed.data);
      return parsed.data;
    });
  }

  /** Calls `fn` with every event once it is written (progress displays, summaries). */
  listen(fn: (event: RunEvent) => void): void {
    this.#listeners.push(fn);
  }

  /** Flushes pending appends to disk. */
  async sync(): Promise<void> {
    await this.#queue;
    await this.#file.syncData();
  }

  /** Stores bytes under their sha256 and returns it; storing the same content twice is free. */
  async putBlob(data: Uint8Array | string): Promise<string> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const sha = await sha256Hex(bytes);
    const dir = join(this.dir, "blobs", sha.slice(0, 2));
    const path = join(dir, sha);
    try {
      await Deno.lstat(path);
      return sha;
    } catch {
      await Deno.mkdir(dir, { recursive: true });
      await writeAtomic(path, bytes);
      return sha;
    }
  }

  /** The path of a blob. */
  blobPath(sha: string): string {
    return join(this.dir, "blobs", sha.slice(0, 2), sha);
  }

  /** Rewrites manifest.json with some keys changed. */
  async updateManifest(patch: Record<string, unknown>): Promise<void> {
    const path = join(this.dir, "manifest.json");
    const current = JSON.parse(await Deno.readTextFile(path));
    await writeAtomic(
      path,
      encoder.encode(JSON.stringify({ ...current, ...patch }, null, 2) + "\n"),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#file.close();
  }
}
