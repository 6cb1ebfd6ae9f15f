import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageDir } from "../runtime/mod.ts";
import { TRAINER_FILES } from "./trainer_files.ts";

/** A base model that names a folder here (an HF checkpoint), made absolute; a model name as it is. */
function localPath(baseModel: string): string {
  return existsSync(baseModel) ? resolve(baseModel) : baseModel;
}

/** Options of {@linkcode startLocalTrainer}. */
export interface LocalTrainerOptions {
  /** `tiny` (pure torch, CPU) or `hf` (transformers + peft, GPU). */
  readonly backend: "tiny" | "hf";
  /** The base model: `tiny`, `tiny:d=64,layers=2`, an HF directory, or `random:qwen2-tiny`. */
  readonly baseModel: string;
  /** The trainer's directory: checkpoints, adapters, its metrics.jsonl and trainer.log. */
  readonly outDir: string;
  readonly seed: number;
  /** The Python interpreter. @default $MAPPA_PYTHON, else /usr/bin/python3 when it exists, else python3 */
  readonly python?: string;
  /** How long to wait for the service to listen. @default 120000 */
  readonly startTimeoutMs?: number;
}

/** A trainer service started as a subprocess of this process. */
export interface LocalTrainer {
  readonly url: string;
  readonly pid: number;
  /** The file its stderr goes to. */
  readonly log: string;
  /** Whether it has exited (crashed, or was killed). */
  exited(): boolean;
  /** The last lines of its log, for error messages. */
  logTail(): Promise<string>;
  /** Stops it (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The repository root, where the `trainer` package lives. */

function defaultPython(): string {
  const env = Deno.env.get("MAPPA_PYTHON");
  if (env) return env;
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3";
  } catch {
    return "python3";
  }
}

async function tail(path: string, lines = 15): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).join("\n  ");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts the Python trainer (`python -m trainer serve`) on a free loopback port and waits until it
 * listens (it writes its port to a file once bound). Its stderr goes to `<outDir>/trainer.log`. Throws
 * with the log's last lines when it exits or does not start in time.
 *
 * @example
 * ```ts ignore
 * const trainer = await startLocalTrainer({ backend: "tiny", baseModel: "tiny", outDir: "runs/x/trainer", seed: 0 });
 * try { console.log(await new TrainerClient(trainer.url).info()); } finally { await trainer.stop(); }
 * ```
 */
export async function startLocalTrainer(
  options: LocalTrainerOptions,
): Promise<LocalTrainer> {
  // The trainer runs in the folder holding trainer/, so every path it gets is absolute.
  const outDir = resolve(options.outDir);
  await Deno.mkdir(outDir, { recursive: true });
  const portFile = join(outDir, `port.${Deno.pid}`);
  await Deno.remove(portFile).catch(() => {});
  const log = join(outDir, "trainer.log");
  const logFile = await Deno.open(log, {
    create: true,
    append: true,
    write: true,
  });
  const python = options.python ?? defaultPython();
  const args = [
    "-m",
    "trainer",
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--port-file",
    portFile,
    "--backend",
    options.backend,
    "--base-model",
    localPath(options.baseModel),
    "--out",
    outDir,
    "--seed",
    String(options.seed),
    "--exit-with-parent",
  ];
  // The folder holding trainer/: the checkout, or a copy in mappa's cache when mappa runs from a URL.
  const root = await packageDir(new URL("../", import.meta.url), TRAINER_FILES);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(python, {
      args,
      cwd: root,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    }).spawn();
  } catch (e) {
    logFile.close();
    throw new Error(
      `Cannot start the local trainer with ${python}: ${
        e instanceof Error ? e.message : String(e)
      }; install Python 3 with torch (apt-get install python3-torch) or set MAPPA_PYTHON`,
    );
  }
  const piping = child.stderr.pipeTo(logFile.writable).catch(() => {});
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));
  const stop = async () => {
    if (exited === undefined) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 10_000);
      await status;
      clearTimeout(timer);
    }
    await piping;
    await Deno.remove(portFile).catch(() => {});
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  while (true) {
    if (exited !== undefined) {
      await piping;
      throw new Error(
        `The local trainer exited with code ${exited.code} before it listened; the last lines of ${log}:\n  ${await tail(
          log,
        )}`,
      );
    }
    const port = await Deno.readTextFile(portFile).then(
      (t) => Number(t.trim()),
      () => NaN,
    );
    if (Number.isInteger(port) && port > 0) {
      return {
        url: `http://127.0.0.1:${port}`,
        pid: child.pid,
        log,
        stop,
        exited: () => exited !== undefined,
        logTail: () => tail(log),
      };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `The local trainer did not listen within ${
          Math.round((options.startTimeoutMs ?? 120_000) / 1000)
        } s; the last lines of ${log}:\n  ${await tail(log)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
