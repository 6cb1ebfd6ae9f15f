/**
 * What the compiler accepts at most, so a spec from a stranger cannot hang or crash it (DESIGN.md
 * decision 12): past any budget, compile() reports a located diagnostic instead of doing the work.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SPEC_BUDGETS } from "./budgets.ts";
 * assert.equal(SPEC_BUDGETS.fileBytes, 1 << 20);
 * ```
 */
export const SPEC_BUDGETS = {
  /** Bytes of one file: the spec, an `extends` base, a `file://` include, a JSON Schema. */
  fileBytes: 1 << 20,
  /** Bytes of every file one compile reads, together. */
  totalBytes: 8 << 20,
  /** Characters of every string and key of the spec once aliases and includes are expanded. */
  expandedChars: 8 << 20,
  /** Values (scalars, lists, mappings) of the spec once aliases and includes are expanded. */
  nodes: 20_000,
  /** YAML alias references (`*name`) in one file. */
  aliases: 10_000,
  /** Values created by expanding YAML aliases. */
  aliasNodes: 10_000,
  /** Levels of nested lists and mappings. */
  depth: 64,
  /** Roles of one spec. */
  roles: 1000,
  /** Characters of an id (role, model, tool, split, output, loop). */
  idChars: 128,
  /** Liquid tags (`{{ }}` and `{% %}`) in one template. */
  templateTags: 1000,
  /** Liquid tags in every template of the spec together. */
  totalTemplateTags: 5_000,
  /** Globs among every role's `produces` and `consumes`: contracts compare each with every path. */
  globs: 32,
  /** Characters of a workspace path or glob. */
  globChars: 256,
  /** Wildcards (`*`, `**`, `?`, `[...]`) in one glob. */
  globWildcards: 16,
  /** Variants of one glob once `{a,b}` alternatives are expanded. */
  globVariants: 16,
} as const;
