/** Splits a workspace-relative path, refusing absolute paths, "." and "..". */
export function splitRelative(path: string): string[] | undefined {
  const parts = path.split("/");
  if (
    path === "" || path.startsWith("/") ||
    parts.some((p) => p === "" || p === "." || p === "..")
  ) return undefined;
  return parts;
}
