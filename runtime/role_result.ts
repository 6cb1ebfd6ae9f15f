import type { Execution } from "./events.ts";

/** One action of a role, as later roles (and templates) see it. */
export interface ActionView {
  readonly turn: number;
  readonly round: number;
  /** The reply without reasoning (or with it, for roles that keep reasoning in handoffs). */
  readonly output: string;
  readonly reasoning: string;
  readonly observations: readonly string[];
}

/** What one role produced in one round: the material of handoffs and the coach's evidence. */
export interface RoleResult {
  readonly role: string;
  readonly round: number;
  readonly actions: readonly ActionView[];
  /** The last reply's answer (reasoning removed). */
  readonly final_text: string;
  /** The last reply as the model wrote it. */
  readonly final_raw: string;
  readonly tool_outputs: readonly string[];
  readonly last_tool_output: string | null;
  /** Workspace paths this role created or modified and that still exist. */
  readonly files: readonly string[];
  readonly outputs: Readonly<Record<string, string | null>>;
  readonly executions: readonly Execution[];
}

/** Formats one execution as the observation a model reads and a later role is handed. */
export function formatObservation(e: Execution, index: number): string {
  const head = `[execution ${index + 1} (${e.tool}): status ${e.status}, exit ${
    e.exit_code ?? "none"
  }${e.signal ? `, signal ${e.signal}` : ""}, ${Math.round(e.wall_ms)} ms]`;
  const parts = [head];
  const stream = (name: string, s: Execution["stdout"]) => {
    if (s.total_bytes === 0) return;
    parts.push(
      `${name}${s.truncated ? ` (${s.total_bytes} bytes, truncated)` : ""}:\n${
        s.text.replace(/\n$/, "")
      }`,
    );
  };
  stream("stdout", e.stdout);
  stream("stderr", e.stderr);
  if (e.stdout.total_bytes === 0 && e.stderr.total_bytes === 0) {
    parts.push("(no output)");
  }
  const kept = e.files.filter((f) => !f.rejected);
  if (kept.length > 0) {
    parts.push(
      `files: ${
        kept.map((f) =>
          `${f.change} ${f.path}${
            f.size !== undefined ? ` (${f.size} bytes)` : ""
          }`
        ).join(", ")
      }`,
    );
  }
  const rejected = e.files.filter((f) => f.rejected);
  if (rejected.length > 0) {
    parts.push(
      `removed from the workspace: ${
        rejected.map((f) => `${f.path} (${f.rejected})`).join(", ")
      }`,
    );
  }
  return parts.join("\n");
}
