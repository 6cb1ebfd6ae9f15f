import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Options of {@linkcode startVllmServer}: the fake's command-line flags (tests/fakes/vllm_server.py). */
export interface FakeVllmOptions {
  /** A fixed port, e.g. to restart an engine where it was. @default a free one */
  readonly port?: number;
  /** The tiny backend's base model: `tiny`, or another base such as `tiny:seed=1`. @default "tiny" */
  readonly model?: string;
  readonly servedModelName?: string;
  readonly seed?: number;
  readonly maxLoraRank?: number;
  readonly chatTemplate?: "default" | "alt" | "alt-system";
  readonly fault?: "ignore_load" | "refuse_load";
  /** Delay of every chat completion. @default 0 */
  readonly latencyMs?: number;
  /** VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, without which vLLM mounts no load endpoint. @default true */
  readonly runtimeLora?: boolean;
}

/** A fake vLLM server running as a subprocess; dispose (or `stop`) to kill it. */
export interface FakeVllm extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Kills it (SIGKILL, as a crash would) and waits for the exit. */
  stop(): Promise<void>;
  /** What it served so far: adapter loads and unloads, generation requests by model name. */
  log(): Promise<
    {
      loads: string[];
      unloads: string[];
      requests: {
        endpoint: string;
        model: string;
        prompt_token_ids: number[];
        token_ids: number[];
        /** The request's sampling fields (temperature, top_p, top_k, min_p, repetition_penalty, seed, max_tokens). */
        sampling?: Record<string, number>;
      }[];
    }
  >;
  /** The names it lists in /v1/models, base first. */
  models(): Promise<string[]>;
}

const SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  "vllm_server.py",
);
const PYTHON = Deno.env.get("MAPPA_PYTHON") ?? "/usr/bin/python3";

/** Starts tests/fakes/vllm_server.py on 127.0.0.1 and resolves once it listens. */
export async function startVllmServer(
  options: FakeVllmOptions = {},
): Promise<FakeVllm> {
  const dir = await Deno.makeTempDir({ prefix: "fake-vllm-" });
  const portFile = join(dir, "port");
  const args = [
    SCRIPT,
    "--port",
    String(options.port ?? 0),
    "--port-file",
    portFile,
    "--model",
    options.model ?? "tiny",
    "--seed",
    String(options.seed ?? 0),
    "--chat-template",
    options.chatTemplate ?? "default",
    ...(options.servedModelName
      ? ["--served-model-name", options.servedModelName]
      : []),
    ...(options.maxLoraRank !== undefined
      ? ["--max-lora-rank", String(options.maxLoraRank)]
      : []),
    ...(options.fault ? ["--fault", options.fault] : []),
    ...(options.latencyMs ? ["--latency-ms", String(options.latencyMs)] : []),
  ];
  const child = new Deno.Command(PYTHON, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: {
      // One thread each: several engines and the trainer share the 2 cores of CI.
      OMP_NUM_THREADS: "1",
      VLLM_ALLOW_RUNTIME_LORA_UPDATING: options.runtimeLora === false
        ? "0"
        : "True",
    },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await status;
    await stderr;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 60_000;
  let port = NaN;
  while (!(port > 0)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(
        `The fake vLLM server did not start: ${(await stderr).slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
    port = await Deno.readTextFile(portFile).then((t) => Number(t), () => NaN);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    stop,
    async log() {
      return await (await fetch(`${url}/fake/log`)).json();
    },
    async models() {
      const body = await (await fetch(`${url}/v1/models`)).json();
      return body.data.map((m: { id: string }) => m.id);
    },
    [Symbol.asyncDispose]: stop,
  };
}
