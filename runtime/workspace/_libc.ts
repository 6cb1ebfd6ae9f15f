/**
 * The few libc calls that host-side reads of workspaces need and Deno does not offer: `openat` relative
 * to a directory handle with O_NOFOLLOW / O_PATH, `statx` on a handle or a raw name, `getdents64` for
 * names as raw bytes (Deno.readDir and node:fs decode them lossily), `unlinkat`, and errno (private).
 *
 * Linux only (x86_64 and aarch64: the flag values below differ between them). Calls are synchronous
 * and short: a workspace walk yields to the event loop between directories.
 */

const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;

const ARM = Deno.build.arch === "aarch64";
export const O_RDONLY = 0;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = ARM ? 0o40000 : 0o200000;
export const O_NOFOLLOW = ARM ? 0o100000 : 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

export const ENOENT = 2;
export const ELOOP = 40;
export const ENOTDIR = 20;

const SYMBOLS = {
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  statx: {
    parameters: ["i32", "buffer", "i32", "u32", "buffer"],
    result: "i32",
  },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === undefined) {
    if (Deno.build.os !== "linux") {
      throw new Error(
        `Cannot read workspaces safely on "${Deno.build.os}": only Linux has the openat/statx calls mappa uses; run on Linux`,
      );
    }
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  }
  return lib.symbols;
}

/** The calling thread's errno, read right after a failed call. */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** A name or path as a NUL-terminated C string. */
export function cString(name: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = typeof name === "string"
    ? new TextEncoder().encode(name)
    : name;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A failed libc call: `errno` says why. */
export class LibcError extends Error {
  readonly errno: number;
  constructor(call: string, code: number) {
    super(`Cannot ${call}: errno ${code}`);
    this.name = "LibcError";
    this.errno = code;
  }
}

/** `openat(dirFd, name, flags)`; `dirFd` undefined means the current directory. Throws LibcError. */
export function openAt(
  dirFd: number | undefined,
  name: string | Uint8Array,
  flags: number,
): number {
  const fd = libc().openat(
    dirFd ?? AT_FDCWD,
    cString(name),
    flags | O_CLOEXEC,
    0,
  );
  if (fd < 0) throw new LibcError("openat", errno());
  return fd;
}

/** Closes a handle from `openAt`, ignoring errors. */
export function closeFd(fd: number): void {
  libc().close(fd);
}

/** What `statx` says of an entry, in the fields a snapshot keeps. */
export interface RawStat {
  /** The S_IFMT bits of st_mode. */
  readonly type: number;
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime_ms: number;
  readonly ctime_ms: number;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const EMPTY = cString("");
const statBuf = new Uint8Array(256);
const statView = new DataView(statBuf.buffer);

/** glibc's makedev, so `dev` equals what Deno.lstat and node's stat report. */
function makedev(major: number, minor: number): number {
  if (major < 0x1000 && minor < 0x100) return major * 0x100 + minor; // the usual case, without BigInt
  return Number(
    (BigInt(minor & 0xff)) | (BigInt(major & 0xfff) << 8n) |
      (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n),
  );
}

function u64(v: DataView, off: number): number {
  return v.getUint32(off + 4, true) * 0x1_0000_0000 + v.getUint32(off, true);
}

/** `statx` of `name` in `dirFd` without following a symlink, or of `dirFd` itself when name is absent. */
export function statAt(dirFd: number, name?: Uint8Array): RawStat {
  const rc = name === undefined
    ? libc().statx(dirFd, EMPTY, AT_EMPTY_PATH, STATX_BASIC_STATS, statBuf)
    : libc().statx(
      dirFd,
      cString(name),
      AT_SYMLINK_NOFOLLOW,
      STATX_BASIC_STATS,
      statBuf,
    );
  if (rc !== 0) throw new LibcError("statx", errno());
  const v = statView;
  const time = (off: number) =>
    (v.getInt32(off + 4, true) * 0x1_0000_0000 + v.getUint32(off, true)) *
      1000 + v.getUint32(off + 8, true) / 1e6;
  return {
    type: v.getUint16(28, true) & S_IFMT,
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    ino: u64(v, 32),
    size: u64(v, 40),
    ctime_ms: time(96),
    mtime_ms: time(112),
    dev: makedev(v.getUint32(136, true), v.getUint32(140, true)),
  };
}

const DENTS_BYTES = 1 << 16;
const dentsBuf = new Uint8Array(DENTS_BYTES);
const dentsView = new DataView(dentsBuf.buffer);

/** Every name in an open directory as raw bytes, without "." and "..". Throws LibcError. */
export function readNames(dirFd: number): Uint8Array[] {
  const names: Uint8Array[] = [];
  for (;;) {
    const n = Number(libc().getdents64(dirFd, dentsBuf, BigInt(DENTS_BYTES)));
    if (n < 0) throw new LibcError("getdents64", errno());
    if (n === 0) return names;
    for (let off = 0; off < n;) {
      const reclen = dentsView.getUint16(off + 16, true);
      let end = off + 19;
      while (dentsBuf[end] !== 0) end++;
      const name = dentsBuf.slice(off + 19, end);
      const dot = name.length === 1 && name[0] === 0x2e;
      const dotdot = name.length === 2 && name[0] === 0x2e && name[1] === 0x2e;
      if (!dot && !dotdot) names.push(name);
      off += reclen;
    }
  }
}

/** `unlinkat(dirFd, name, flags)`: true when removed or already gone; throws LibcError otherwise. */
export function unlinkAt(dirFd: number, name: Uint8Array, flags = 0): boolean {
  if (libc().unlinkat(dirFd, cString(name), flags) === 0) return true;
  const code = errno();
  if (code === ENOENT) return true;
  throw new LibcError("unlinkat", code);
}
