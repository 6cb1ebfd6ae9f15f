import { resolve } from "node:path";
import type { ExecRequest, ExecResult, Sandbox } from "../ports.ts";
import { checkLimits } from "./_check_limits.ts";
import { denoRunArgs } from "./_jail_argv.ts";
import { writeProgram } from "./_program_file.ts";
import { runProcess } from "./_run_process.ts";
import { createHash } from "node:crypto";

/** The explicit opt-in `UnsafeSandbox` requires. */
export interface UnsafeSandboxOptions {
  /** Must be `true`: agent code will see the host's files, network and processes. */
  readonly iUnderstandThisRunsAgentCodeWithoutIsolation: true;
  /**
   * The Python interpreter.
   * @default "/usr/bin/python3"
   */
  readonly pythonPath?: string;
  /**
   * The Deno binary for TypeScript programs.
   * @default Deno.execPath()
   */
  readonly denoPath?: string;
  /**
   * util-linux `prlimit`, which applies the CPU, memory, file-size and file-count limits.
   * @default "/usr/bin/prlimit"
   */
  readonly prlimitPath?: string;
}

const BACKEND = "unsafe-none-v1";

/**
 * Runs agent code as a plain subprocess of the runtime, with rlimits but NO isolation: it can read
 * host files and secrets, use the network and leave processes behind (Deno's permissions are
 * escapable through a planted symlink, reference/sandbox.md §2.4). For development only; production
 * runs use `BwrapSandbox`. The same draining, timeout and status logic applies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsafeSandbox } from "./unsafe_sandbox.ts";
 * const sandbox = new UnsafeSandbox({ iUnderstandThisRunsAgentCodeWithoutIsolation: true });
 * const workspace = await Deno.makeTempDir();
 * const result = await sandbox.exec({
 *   language: "python",
 *   code: "raise ValueError('bad input')",
 *   workspace,
 *   limits: {
 *     wall_ms: 10_000, cpu_s: 10, memory_mb: 512, output_cap_bytes: 65_536,
 *     kill_output_bytes: 1 << 20, file_size_mb: 16, nproc: 256,
 *   },
 * });
 * assert.deepEqual(result.error, { type: "ValueError", message: "bad input" });
 * assert.equal(result.backend, "unsafe-none-v1");
 * await Deno.remove(workspace, { recursive: true });
 * ```
 */
export class UnsafeSandbox implements Sandbox {
  readonly backend = BACKEND;
  readonly #python: string;
  readonly #deno: string;
  readonly #prlimit: string;

  constructor(options: UnsafeSandboxOptions) {
    if (options?.iUnderstandThisRunsAgentCodeWithoutIsolation !== true) {
      throw new TypeError(
        "Cannot create UnsafeSandbox: it runs agent code without isolation; pass { iUnderstandThisRunsAgentCodeWithoutIsolation: true } or use BwrapSandbox",
      );
    }
    this.#python = options.pythonPath ?? "/usr/bin/python3";
    this.#deno = options.denoPath ?? Deno.execPath();
    this.#prlimit = options.prlimitPath ?? "/usr/bin/prlimit";
  }

  /**
   * Runs one program in the workspace directory, unisolated; `readonly_workspace` cannot be enforced
   * without a jail (the program runs as the runtime's user), so give such programs a copy.
   */
  async exec(request: ExecRequest): Promise<ExecResult> {
    const { limits } = request;
    checkLimits(limits);
    if ((request.hide_paths ?? []).length > 0) {
      throw new TypeError(
        `Cannot run with hide_paths [${
          request.hide_paths!.join(", ")
        }] in UnsafeSandbox: it has no jail to hide host paths from; use BwrapSandbox or drop the tool's hide_paths`,
      );
    }
    const workspace = resolve(request.workspace);
    const program = await writeProgram(request.code, request.language);
    try {
      const argv = [
        this.#prlimit,
        ...(request.language === "python"
          ? [`--as=${limits.memory_mb * (1 << 20)}`]
          : []),
        `--cpu=${limits.cpu_s}:${limits.cpu_s + 1}`,
        `--fsize=${limits.file_size_mb * (1 << 20)}`,
        "--core=0",
        "--",
        ...(request.language === "python"
          ? [this.#python, "-I", program.path]
          : [
            this.#deno,
            ...denoRunArgs(workspace, program.path, limits.memory_mb),
          ]),
      ];
      const denoDir = `${resolve(program.path, "..")}/deno`;
      const outcome = await runProcess({
        command: argv[0]!,
        args: argv.slice(1),
        env: {
          PATH: "/usr/bin:/bin",
          HOME: workspace,
          LANG: "C.UTF-8",
          MPLBACKEND: "Agg",
          OMP_NUM_THREADS: "1",
          OPENBLAS_NUM_THREADS: "1",
          ...(request.language === "typescript"
            ? { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }
            : {}),
        },
        cwd: workspace,
        language: request.language,
        limits,
        signal: request.signal,
        stdin: request.stdin,
        exitCodeEncodesSignal: false,
        detached: true,
        kill: killGroup,
      });
      const template = argv.map((a) =>
        a === workspace ? "{workspace}" : a === program.path ? "{program}" : a
      );
      return {
        ...outcome,
        backend: BACKEND,
        argv_hash: createHash("sha256").update(template.join("\0")).digest(
          "hex",
        ),
      };
    } finally {
      await program.dispose();
    }
  }
}

/** The program leads its own session (`detached`), so its process group dies with it. */
function killGroup(child: Deno.ChildProcess): void {
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    // already exited
  }
}
