import type { Diagnostic, RelatedLocation } from "./diagnostic.ts";
import type { DiagnosticCode } from "./diagnostic_codes.ts";
import type { Pipeline, Role, Rubric } from "./schema.ts";
import { type Loc, nodeAt, type SpecNode } from "./source_tree.ts";
import type { ReadScope } from "./read_scope.ts";

type Path = readonly (string | number)[];

/** What a rule reports; the context turns paths into positions. */
export interface RuleReport {
  readonly code: DiagnosticCode;
  readonly path: Path;
  readonly message: string;
  readonly hint?: string;
  readonly severity?: "error" | "warning";
  /** Point at the key rather than its value. */
  readonly onKey?: boolean;
  /** Use this location instead of the path's (e.g. a variable inside a template). */
  readonly loc?: Loc;
  readonly related?: readonly {
    readonly path: Path;
    readonly message: string;
  }[];
}

/** The roles a rubric is applied to, with where the rubric is declared. */
export interface RubricUse {
  readonly rubric: Rubric;
  readonly path: Path;
  readonly roles: readonly Role[];
}

/** Everything a semantic rule reads, plus `report`. Derived facts are computed once and shared. */
export class RuleContext {
  readonly spec: Pipeline;
  readonly root: SpecNode;
  readonly diagnostics: Diagnostic[] = [];
  /** Whether a file (dataset, JSON Schema) exists; relative paths are already resolved. */
  readonly fileExists: (path: string) => boolean;
  /** Reads a file referenced by the spec (e.g. a JSON Schema); throws when it cannot. */
  readonly readFile: (path: string) => string;
  /** Directory of the entry spec; dataset and schema paths are relative to it. */
  readonly baseDir: string;
  /** Where paths written in a spec file may point (its read scope); undefined: anywhere. */
  readonly readScopeOf: (file: string) => ReadScope | undefined;
  readonly roleById: ReadonlyMap<string, Role>;
  readonly roleIndex: ReadonlyMap<string, number>;
  /** JSON Schemas of artifacts, resolved by the valid_json_schemas rule, keyed `<role>:<produces index>`. */
  readonly artifactSchemas = new Map<string, unknown>();
  #ancestors?: Map<string, Set<string>>;
  #loopOf?: Map<string, string>;

  constructor(
    spec: Pipeline,
    root: SpecNode,
    options: {
      baseDir: string;
      fileExists: (path: string) => boolean;
      readFile: (path: string) => string;
      readScopeOf?: (file: string) => ReadScope | undefined;
    },
  ) {
    this.spec = spec;
    this.root = root;
    this.baseDir = options.baseDir;
    this.fileExists = options.fileExists;
    this.readFile = options.readFile;
    this.readScopeOf = options.readScopeOf ?? (() => undefined);
    const byId = new Map<string, Role>();
    const index = new Map<string, number>();
    spec.roles.forEach((r, i) => {
      if (!byId.has(r.id)) {
        byId.set(r.id, r);
        index.set(r.id, i);
      }
    });
    this.roleById = byId;
    this.roleIndex = index;
  }

  /** The location of the node at a path (nearest existing ancestor when absent). */
  locate(path: Path, onKey = false): Loc {
    const found = nodeAt(this.root, path);
    return onKey && found.exact && found.keyLoc ? found.keyLoc : found.node.loc;
  }

  report(r: RuleReport): void {
    const loc = r.loc ?? this.locate(r.path, r.onKey);
    const related: RelatedLocation[] = (r.related ?? []).map((x) => {
      const l = this.locate(x.path);
      return {
        file: l.file,
        ...(l.start ? { position: l.start } : {}),
        message: x.message,
      };
    });
    this.diagnostics.push({
      code: r.code,
      severity: r.severity ?? "error",
      message: r.message,
      file: loc.file,
      ...(loc.start ? { position: loc.start } : {}),
      ...(loc.end && loc.end.offset > (loc.start?.offset ?? 0) &&
          loc.end.line === loc.start?.line
        ? { end: loc.end }
        : {}),
      path: [...r.path],
      ...(related.length > 0 ? { related } : {}),
      ...(r.hint ? { hint: r.hint } : {}),
    });
  }

  /** Loop group id of each role that belongs to one. */
  get loopOf(): ReadonlyMap<string, string> {
    if (!this.#loopOf) {
      this.#loopOf = new Map();
      for (const loop of this.spec.flow.loops) {
        for (const r of loop.roles) {
          if (!this.#loopOf.has(r)) this.#loopOf.set(r, loop.id);
        }
      }
    }
    return this.#loopOf;
  }

  /** Transitive upstream roles through known `after` edges; contains the role itself only when it is on a cycle. */
  ancestors(id: string): ReadonlySet<string> {
    this.#ancestors ??= new Map();
    const cached = this.#ancestors.get(id);
    if (cached) return cached;
    const seen = new Set<string>();
    const stack = [...(this.roleById.get(id)?.after ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next) || !this.roleById.has(next)) continue;
      seen.add(next);
      const known = this.#ancestors.get(next);
      if (known) { for (const a of known) seen.add(a); }
      else stack.push(...this.roleById.get(next)!.after);
    }
    this.#ancestors.set(id, seen);
    return seen;
  }

  /** Roles a role may see: its ancestors, plus its loop peers (seen from the previous round). */
  visibleUpstream(id: string): ReadonlySet<string> {
    const out = new Set(this.ancestors(id));
    out.delete(id);
    const loop = this.loopOf.get(id);
    if (loop !== undefined) {
      for (const l of this.spec.flow.loops) {
        if (l.id === loop) {
          for (const r of l.roles) if (r !== id) out.add(r);
        }
      }
    }
    return out;
  }

  /** What a role is shown of each upstream role: `sees`, or final text and files of each `after` role. */
  sees(role: Role): Readonly<Record<string, readonly string[]>> {
    if (role.sees) return role.sees;
    const out: Record<string, string[]> = {};
    for (const a of role.after) out[a] = ["final_text", "files"];
    return out;
  }

  /** Roles the coach scores. */
  get coachedRoles(): readonly Role[] {
    const coach = this.spec.coach;
    if (!coach) return [];
    const only = coach.roles;
    return only
      ? this.spec.roles.filter((r) => only.includes(r.id))
      : this.spec.roles;
  }

  /** Each rubric of the coach with the roles it scores. */
  get rubricUses(): readonly RubricUse[] {
    const coach = this.spec.coach;
    if (!coach) return [];
    const coached = this.coachedRoles;
    const overridden = new Set(Object.keys(coach.rubrics));
    const uses: RubricUse[] = [{
      rubric: coach.rubric,
      path: ["coach", "rubric"],
      roles: coached.filter((r) => !overridden.has(r.id)),
    }];
    for (const [id, rubric] of Object.entries(coach.rubrics)) {
      const role = this.roleById.get(id);
      uses.push({
        rubric,
        path: ["coach", "rubrics", id],
        roles: role ? [role] : [],
      });
    }
    return uses;
  }
}

/** A semantic rule: reads the context, reports through it. */
export type Rule = (ctx: RuleContext) => void;
