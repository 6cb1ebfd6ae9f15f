import { dirname } from "node:path";
import { type ReadScope, readScope } from "./read_scope.ts";

/**
 * The read scope each file of a spec was read in (DESIGN.md decision 12): the entry's folder widened by
 * `allowRead`; a fetched base's own folder (its unpacked bundle); an included file inherits the scope
 * of the file naming it. The files a file names must stay inside its scope.
 */
export class FileScopes {
  readonly #scopes = new Map<string, ReadScope>();
  readonly #allow: readonly string[];

  constructor(allowRead: readonly string[] = []) {
    this.#allow = allowRead;
  }

  /** Every file's scope, the entry's first. */
  get all(): ReadonlyMap<string, ReadScope> {
    return this.#scopes;
  }

  has(path: string): boolean {
    return this.#scopes.has(path);
  }

  /** The entry spec: its folder, widened by `allowRead`. */
  enter(entry: string): void {
    this.set(entry, readScope(dirname(entry), this.#allow));
  }

  /** A fetched base: its own folder, never the user's `allowRead`. */
  enterFetched(path: string): void {
    this.set(path, readScope(dirname(path)));
  }

  /** Records the scope a file was read in, unless it already has one. */
  set(path: string, scope: ReadScope): void {
    if (!this.#scopes.has(path)) this.#scopes.set(path, scope);
  }

  /** The scope of the files `file` names (its own folder's, for a file read in none). */
  of(file: string): ReadScope {
    return this.#scopes.get(file) ?? readScope(dirname(file));
  }
}
