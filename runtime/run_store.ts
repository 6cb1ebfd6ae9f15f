import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  type EpisodeFinishedEvent,
  type RunEvent,
  type RunEventInput,
  RunEventSchema,
} from "./events.ts";
import {
  type Manifest,
  readRunManifest,
  writeRunManifest,
} from "./manifest.ts";
import { RunStoreError } from "./run_store_error.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";

const encoder = new TextEncoder();

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto's fixed cost is ten times node:crypto's on a small blob; a large one is hashed off the loop.
  if (bytes.length <= 1 << 20) {
    return createHash("sha256").update(bytes).digest("hex");
  }
  const digest = await globalThis.crypto.subtle.digest(
    "SHA-256",
    bytes as BufferSource,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** What a resumed run already holds. */
export interface RunState {
  /** Number of valid events already in the log. */
  readonly events: number;
  /** Episode ids with a completed `episode_finished` event. */
  readonly finished: ReadonlySet<string>;
  /** Highest attempt started per episode. */
  readonly attempts: ReadonlyMap<string, number>;
  /** Bytes of a torn last line that were dropped. */
  readonly repairedBytes: number;
  /** Finished episodes whose last grade is ungraded (the grader failed): --resume grades them again. */
  readonly ungraded: ReadonlyMap<string, EpisodeFinishedEvent>;
}

export { RunStoreError };

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
  #lines: string[] = [];
  #syncing: Promise<void> = Promise.resolve();
  #nextSync: Promise<void> | undefined;
  #written: PromiseWithResolvers<void>[] = [];
  #closed = false;
  readonly #shards = new Set<string>();
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
    manifest: Manifest,
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
    await acquireLock(dir);
    await Deno.mkdir(join(dir, "blobs"), { recursive: true });
    await writeRunManifest(dir, manifest);
    const file = await Deno.open(join(dir, "events.jsonl"), {
      create: true,
      append: true,
    });
    return new RunStore(dir, runId, file, 0);
  }

  /**
   * Opens an existing run to resume it: takes the run's lock, drops a torn last line left by a crash, and
   * reads events.jsonl as a stream (a long run's log can be larger than one string may hold).
   */
  static async open(
    dir: string,
  ): Promise<
    { store: RunStore; manifest: Manifest; state: RunState }
  > {
    const manifest = await readRunManifest(dir, "resume");
    await acquireLock(dir);
    try {
      const path = join(dir, "events.jsonl");
      const finished = new Set<string>();
      const attempts = new Map<string, number>();
      const ungraded = new Map<string, EpisodeFinishedEvent>();
      let count = 0;
      let lastStep = -1;
      const { repairedBytes } = await readLines(path, (line, lineNo) => {
        if (line.trim() === "") return;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch (e) {
          throw new RunStoreError(
            `Cannot resume run ${dir}: events.jsonl line ${lineNo} is not JSON (${
              e instanceof Error ? e.message : e
            })`,
            dir,
          );
        }
        const parsed = RunEventSchema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new RunStoreError(
            `Cannot resume run ${dir}: events.jsonl line ${lineNo} is not a valid event (${
              issue
                ? `${issue.path.join(".") || "record"}: ${issue.message}`
                : "invalid"
            })`,
            dir,
          );
        }
        const e = parsed.data;
        count++;
        lastStep = e.step;
        if (e.kind === "episode_started") {
          attempts.set(
            e.episode_id,
            Math.max(attempts.get(e.episode_id) ?? 0, e.attempt),
          );
        }
        // A failed episode, or one whose model calls failed for a passing reason, runs again on resume.
        if (e.kind === "episode_finished") {
          if (e.status === "completed" && e.model_failures === 0) {
            finished.add(e.episode_id);
          } else finished.delete(e.episode_id);
          if (e.outcome?.ungraded !== undefined) ungraded.set(e.episode_id, e);
          else ungraded.delete(e.episode_id);
        }
      });
      const runId = manifest.run_id ?? String(dir.split("/").at(-1));
      const file = await Deno.open(path, { create: true, append: true });
      return {
        store: new RunStore(dir, runId, file, lastStep + 1),
        manifest,
        state: { events: count, finished, attempts, repairedBytes, ungraded },
      };
    } catch (e) {
      await releaseLock(dir);
      throw e;
    }
  }

  /**
   * Calls `fn` with every valid event already in a run's events.jsonl, in order, reading it as a stream
   * (a line that is not a valid event is skipped: `open` has already refused or repaired the log).
   */
  static async forEachEvent(
    dir: string,
    fn: (event: RunEvent) => void,
  ): Promise<void> {
    await readLines(join(dir, "events.jsonl"), (line) => {
      if (line.trim() === "") return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return;
      }
      const parsed = RunEventSchema.safeParse(json);
      if (parsed.success) fn(parsed.data);
    }, false);
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
    const written = Promise.withResolvers<void>();
    this.#lines.push(JSON.stringify(parsed.data) + "\n");
    this.#written.push(written);
    if (this.#lines.length === 1) {
      this.#queue = this.#queue.then(() => this.#flush());
    }
    return written.promise.then(() => {
      for (const listen of this.#listeners) listen(parsed.data);
      return parsed.data;
    });
  }

  /** Writes every line appended since the last write in one go: concurrent episodes share a syscall. */
  async #flush(): Promise<void> {
    const bytes = encoder.encode(this.#lines.join(""));
    const written = this.#written;
    this.#lines = [];
    this.#written = [];
    try {
      let off = 0;
      while (off < bytes.length) {
        off += await this.#file.write(bytes.subarray(off));
      }
      for (const w of written) w.resolve();
    } catch (e) {
      for (const w of written) w.reject(e);
    }
  }

  /** Calls `fn` with every event once it is written (progress displays, summaries). */
  listen(fn: (event: RunEvent) => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Flushes pending appends to disk. Callers that arrive while a flush runs share the next one: episodes
   * finishing together cost one fdatasync, not one each.
   */
  sync(): Promise<void> {
    this.#nextSync ??= (async () => {
      await this.#syncing;
      this.#nextSync = undefined;
      const run = this.#queue.then(() => this.#file.syncData());
      this.#syncing = run.catch(() => {});
      await run;
    })();
    return this.#nextSync;
  }

  /** Stores bytes under their sha256 and returns it; storing the same content twice is free. */
  async putBlob(data: Uint8Array | string): Promise<string> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const sha = await sha256Hex(bytes);
    if (await this.hasBlob(sha)) return sha;
    await this.#shard(sha);
    await writeFileAtomic(this.blobPath(sha), bytes);
    return sha;
  }

  /** Whether a blob with this sha256 is stored. */
  hasBlob(sha: string): Promise<boolean> {
    return Deno.lstat(this.blobPath(sha)).then(() => true, () => false);
  }

  /** Creates the blob's shard directory once per run: a mkdir per blob cost a syscall per file. */
  async #shard(sha: string): Promise<void> {
    const shard = sha.slice(0, 2);
    if (this.#shards.has(shard)) return;
    await Deno.mkdir(join(this.dir, "blobs", shard), { recursive: true });
    this.#shards.add(shard);
  }

  /**
   * Stores a stream under its sha256 without holding it in memory (workspace files can be large): it is
   * copied to a temporary file while hashed, then renamed into place.
   */
  async putStream(stream: ReadableStream<Uint8Array>): Promise<string> {
    const hash = createHash("sha256");
    const tmp = join(this.dir, "blobs", `.incoming-${crypto.randomUUID()}`);
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for await (const chunk of stream) {
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
      }
    } finally {
      file.close();
    }
    const sha = hash.digest("hex");
    if (await this.hasBlob(sha)) await Deno.remove(tmp);
    else {
      await this.#shard(sha);
      await Deno.rename(tmp, this.blobPath(sha));
    }
    return sha;
  }

  /** The path of a blob. */
  blobPath(sha: string): string {
    return join(this.dir, "blobs", sha.slice(0, 2), sha);
  }

  /** Rewrites manifest.json with some keys changed. */
  async updateManifest(patch: Manifest): Promise<void> {
    const current = await readRunManifest(this.dir, "update");
    await writeRunManifest(this.dir, { ...current, ...patch });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#file.close();
    await releaseLock(this.dir);
  }
}

const LOCK = "run.lock";

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Takes the run's lock (a file holding our pid), so two processes never append to one run. */
async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  try {
    await Deno.writeTextFile(path, String(Deno.pid), { createNew: true });
    return;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const holder = Number((await Deno.readTextFile(path).catch(() => "")).trim());
  if (
    Number.isInteger(holder) && holder > 0 && holder !== Deno.pid &&
    alive(holder)
  ) {
    throw new RunStoreError(
      `Cannot open run ${dir}: process ${holder} is writing it (${LOCK}); wait for it to finish, or remove ${LOCK} if that process is gone`,
      dir,
    );
  }
  // The holder is gone (a crash or a kill): take the lock over.
  await Deno.writeTextFile(path, String(Deno.pid));
}

async function releaseLock(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  const holder = await Deno.readTextFile(path).catch(() => "");
  if (holder.trim() === String(Deno.pid)) {
    await Deno.remove(path).catch(() => {});
  }
}

/**
 * Calls `fn` for every complete line of a file, reading it as a stream; a torn last line (no newline) is
 * cut off the file. Returns how many bytes were cut.
 */
async function readLines(
  path: string,
  fn: (line: string, lineNo: number) => void,
  repair = true,
): Promise<{ repairedBytes: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { repairedBytes: 0 };
    throw e;
  }
  const decoder = new TextDecoder();
  let pending = new Uint8Array(0);
  let kept = 0;
  let lineNo = 0;
  try {
    for await (const chunk of file.readable) {
      const bytes = new Uint8Array(pending.length + chunk.length);
      bytes.set(pending);
      bytes.set(chunk, pending.length);
      let start = 0;
      for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, start)) {
        fn(decoder.decode(bytes.subarray(start, i)), ++lineNo);
        kept += i - start + 1;
        start = i + 1;
      }
      pending = bytes.slice(start);
    }
  } finally {
    try {
      file.close();
    } catch { /* the stream closed it */ }
  }
  if (pending.length > 0 && repair) await Deno.truncate(path, kept);
  return { repairedBytes: pending.length };
}
