import {
  AT_REMOVEDIR,
  closeFd,
  LibcError,
  readNames,
  S_IFDIR,
  statAt,
  unlinkAt,
} from "./_libc.ts";
import { openDirNoFollow } from "./_open_dir.ts";

interface Frame {
  readonly name: Uint8Array;
  readonly ino: number;
  readonly dev: number;
  /** Subdirectories still to remove. */
  readonly subdirs: Uint8Array[];
}

function unlinkFiles(fd: number): Uint8Array[] {
  const subdirs: Uint8Array[] = [];
  for (const name of readNames(fd)) {
    let type: number;
    try {
      type = statAt(fd, name).type;
    } catch {
      continue; // gone meanwhile
    }
    if (type === S_IFDIR) subdirs.push(name);
    else unlinkAt(fd, name);
  }
  return subdirs;
}

/**
 * Removes the entry `name` of the open directory `parentFd`, a whole tree when it is a directory, by
 * handles only: any depth (no path is ever built, at most two handles are open), any name, no symlink
 * followed. Going back up opens "..", which must be the directory it came from (inode and device),
 * or the removal stops. Returns whether the entry is gone. Throws only for a broken environment.
 */
export function removeTree(parentFd: number, name: Uint8Array): boolean {
  const top = statAt(parentFd, name);
  if (top.type !== S_IFDIR) return unlinkAt(parentFd, name);
  const parent = statAt(parentFd);
  let fd = openDirNoFollow(parentFd, name);
  const stack: Frame[] = [];
  try {
    let st = statAt(fd);
    if (st.ino !== top.ino || st.dev !== top.dev) return false;
    stack.push({ name, ino: st.ino, dev: st.dev, subdirs: unlinkFiles(fd) });
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const next = frame.subdirs.pop();
      if (next !== undefined) {
        let child: number;
        try {
          child = openDirNoFollow(fd, next);
        } catch (e) {
          if (e instanceof LibcError) continue; // gone or replaced meanwhile
          throw e;
        }
        closeFd(fd);
        fd = child;
        st = statAt(fd);
        stack.push({
          name: next,
          ino: st.ino,
          dev: st.dev,
          subdirs: unlinkFiles(fd),
        });
        continue;
      }
      // Empty now: go up to the directory it came from, and remove it there.
      const up = openDirNoFollow(fd, "..");
      closeFd(fd);
      fd = up;
      stack.pop();
      const want = stack.at(-1) ?? parent;
      const got = statAt(fd);
      if (got.ino !== want.ino || got.dev !== want.dev) return false;
      unlinkAt(fd, frame.name, AT_REMOVEDIR);
    }
    return true;
  } finally {
    closeFd(fd);
  }
}
