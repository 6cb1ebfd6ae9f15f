import type { RuleContext } from "../rule_context.ts";

/**
 * `train.rollout` with `engine: vllm` names at least one engine URL, each an http(s) URL listed once,
 * and the `adapter_dir` the adapters are delivered through. See docs/vllm.md#the-spec.
 */
export function rolloutEngine(ctx: RuleContext): void {
  const rollout = ctx.spec.train?.rollout;
  if (rollout === undefined || rollout.engine !== "vllm") return;
  if (rollout.urls.length === 0) {
    ctx.report({
      code: "too_small",
      path: ["train", "rollout", "urls"],
      message:
        "Cannot send rollouts to vLLM: train.rollout.urls lists no engine",
      hint:
        "list the base URL of each vllm serve, e.g. urls: [http://127.0.0.1:8000]",
    });
  }
  const seen = new Set<string>();
  rollout.urls.forEach((raw, i) => {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch { /* reported below */ }
    if (url === undefined || !/^https?:$/.test(url.protocol)) {
      ctx.report({
        code: "invalid_format",
        path: ["train", "rollout", "urls", i],
        message:
          `Cannot use engine URL "${raw}": it is not an http:// or https:// URL`,
        hint: "write the server's base URL, e.g. http://gpu-box:8000",
      });
      return;
    }
    const key = url.href.replace(/\/+$/, "").replace(/\/v1$/, "");
    if (seen.has(key)) {
      ctx.report({
        code: "invalid_value",
        path: ["train", "rollout", "urls", i],
        message: `Cannot use engine URL "${raw}" twice: it is listed already`,
        hint: "list each vllm serve once",
      });
    }
    seen.add(key);
  });
  if (rollout.adapter_dir === undefined) {
    ctx.report({
      code: "missing_key",
      path: ["train", "rollout"],
      message:
        "Cannot deliver adapters to vLLM: train.rollout.adapter_dir is not set",
      hint:
        "set adapter_dir to a directory that mappa and every engine see at the same path",
    });
  }
}
