import { closeFd, O_DIRECTORY, O_NOFOLLOW, O_RDONLY, openAt } from "./_libc.ts";

/**
 * Opens the directory `name` relative to the handle `dirFd` (the current directory when undefined)
 * without following a symlink: a link or a non-directory throws LibcError (ELOOP or ENOTDIR).
 */
export function openDirNoFollow(
  dirFd: number | undefined,
  name: string | Uint8Array,
): number {
  return openAt(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/**
 * Opens the directory `root/parts…` one component at a time, each with O_NOFOLLOW | O_DIRECTORY
 * relative to the previous one, so no symlink on the way is followed and no path length limit applies.
 * `root` itself is the host's path and is opened normally. Throws LibcError (ELOOP or ENOTDIR for a
 * link or a non-directory on the way). The caller closes the handle.
 */
export function openDirPath(
  root: string,
  parts: readonly (string | Uint8Array)[],
): number {
  let fd = openAt(undefined, root, O_RDONLY | O_DIRECTORY);
  for (const part of parts) {
    try {
      const next = openDirNoFollow(fd, part);
      closeFd(fd);
      fd = next;
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }
  return fd;
}
