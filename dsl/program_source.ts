import { extname } from "node:path";
import type { RuleReport } from "./rule_context.ts";
import { nodeAt, type SpecNode } from "./source_tree.ts";

type Path = readonly (string | number)[];

const LANGUAGES: Readonly<Record<string, "python" | "typescript">> = {
  ".py": "python",
  ".ts": "typescript",
  ".js": "typescript",
  ".mjs": "typescript",
};

/** The file a `file://` include at `path` came from, or undefined when the value is not an include. */
export function includedFrom(root: SpecNode, path: Path): string | undefined {
  const found = nodeAt(root, path);
  const node = found.node;
  return found.exact && node.kind === "scalar" && node.included
    ? node.origin?.file
    : undefined;
}

/** The keys that give a program: a `file://` script, or inline code with its language. */
export interface ProgramKeys {
  readonly script?: string | undefined;
  readonly code?: string | undefined;
  readonly language?: "python" | "typescript" | undefined;
}

/** How the problems of one owner's program read (a command check's, a command grader's). */
export interface ProgramWords {
  /** Where a missing program is reported (the key that asks for one: `when`, `grader`). */
  readonly missingAt: Path;
  readonly missing: string;
  readonly both: string;
  readonly notIncluded: string;
  readonly unknownExtension: (origin: string, ext: string) => string;
  readonly noLanguage: string;
  /** The folder a hint suggests for the script: `checks`, `graders`. */
  readonly folder: string;
  /** Where a hint says to add `language`: `the check`, `params`. */
  readonly languageIn: string;
}

/**
 * The problem of a program given at `at` (the object holding its keys), if any: it needs exactly one of
 * `script` (a `file://` include, whose extension gives the language unless `language` says it) and `code`
 * (inline, with `language`). A script's language is written into `program`, because the include's file
 * name is known only here.
 */
export function programProblem(
  program: ProgramKeys,
  at: Path,
  root: SpecNode,
  words: ProgramWords,
): RuleReport | undefined {
  const languageHint =
    `add language: python (or typescript) to ${words.languageIn}`;
  if (program.script === undefined && program.code === undefined) {
    return {
      code: "missing_key",
      path: words.missingAt,
      message: words.missing,
      hint:
        `add script: file://${words.folder}/<name>.py, or code: | with language: python`,
    };
  }
  if (program.script !== undefined && program.code !== undefined) {
    return {
      code: "conflicting_values",
      path: [...at, "code"],
      onKey: true,
      message: words.both,
      hint: "keep script (a file:// include) or code (inline), not both",
    };
  }
  if (program.script === undefined) {
    return program.language === undefined
      ? {
        code: "missing_key",
        path: [...at, "code"],
        onKey: true,
        message: words.noLanguage,
        hint: languageHint,
      }
      : undefined;
  }
  const origin = includedFrom(root, [...at, "script"]);
  if (origin === undefined) {
    return {
      code: "invalid_value",
      path: [...at, "script"],
      message: words.notIncluded,
      hint:
        `write script: file://${words.folder}/<name>.py (relative to this file), or put inline text under code:`,
    };
  }
  const ext = extname(origin).toLowerCase();
  const fromName = LANGUAGES[ext];
  if (program.language === undefined && fromName === undefined) {
    return {
      code: "invalid_value",
      path: [...at, "script"],
      message: words.unknownExtension(origin, ext),
      hint: languageHint,
    };
  }
  // The graph (and a rubric's hash) carries the resolved language.
  if (program.language === undefined) {
    (program as { language?: string }).language = fromName!;
  }
  return undefined;
}
