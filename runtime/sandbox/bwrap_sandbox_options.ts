import { pythonDataPaths } from "./_data_paths.ts";

/** Options for `BwrapSandbox.create`. */
export interface BwrapSandboxOptions {
  /**
   * The bubblewrap binary.
   * @default "/usr/bin/bwrap", else "bwrap" on PATH
   */
  bwrapPath?: string;
  /**
   * util-linux `setpriv`, used to switch to the slot's uid when the runtime is root.
   * @default "/usr/bin/setpriv", else "setpriv" on PATH
   */
  setprivPath?: string;
  /**
   * The Python interpreter; it must live under /usr, the only system tree in the jail.
   * @default "/usr/bin/python3"
   */
  pythonPath?: string;
  /**
   * The Deno binary bound at /opt/deno for TypeScript programs.
   * @default Deno.execPath()
   */
  denoPath?: string;
  /**
   * Slot n runs as uid `uidBase + n`, so RLIMIT_NPROC is per slot (reference/sandbox.md §3.1 item 4).
   * @default 200000
   */
  uidBase?: number;
  /**
   * The gid every slot shares.
   * @default 200000
   */
  gid?: number;
  /**
   * Size of the jail's private /tmp, in MiB.
   * @default 256
   */
  tmpMb?: number;
  /**
   * Size of the jail's private /dev/shm, in MiB.
   * @default 64
   */
  shmMb?: number;
  /**
   * RLIMIT_NOFILE.
   * @default 512
   */
  nofile?: number;
  /**
   * Host paths under /usr that no program in the jail sees: a folder shows empty, a file reads empty.
   * Task sets built from packaged datasets cannot then be rebuilt by agent code (DESIGN.md decision 11).
   * @default pythonDataPaths()
   */
  hidePaths?: readonly string[];
}

/** `BwrapSandboxOptions` after defaults. */
export type ResolvedBwrapSandboxOptions = Readonly<
  Required<BwrapSandboxOptions>
>;

/** The first `name` in /usr/bin, then PATH, then /usr/sbin. */
function findOnPath(name: string): string {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    // No env permission: fall back to the Debian location.
  }
  for (const dir of ["/usr/bin", ...path.split(":"), "/usr/sbin"]) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return `/usr/bin/${name}`;
}

/**
 * Fills the defaults of `BwrapSandboxOptions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveBwrapSandboxOptions } from "./bwrap_sandbox_options.ts";
 * const resolved = resolveBwrapSandboxOptions({ tmpMb: 64 });
 * assert.equal(resolved.tmpMb, 64);
 * assert.equal(resolved.uidBase, 200_000);
 * ```
 */
export function resolveBwrapSandboxOptions(
  options: BwrapSandboxOptions = {},
): ResolvedBwrapSandboxOptions {
  return {
    bwrapPath: options.bwrapPath ?? findOnPath("bwrap"),
    setprivPath: options.setprivPath ?? findOnPath("setpriv"),
    pythonPath: options.pythonPath ?? "/usr/bin/python3",
    denoPath: options.denoPath ?? Deno.execPath(),
    uidBase: options.uidBase ?? 200_000,
    gid: options.gid ?? 200_000,
    tmpMb: options.tmpMb ?? 256,
    shmMb: options.shmMb ?? 64,
    nofile: options.nofile ?? 512,
    hidePaths: options.hidePaths ?? pythonDataPaths(),
  };
}
