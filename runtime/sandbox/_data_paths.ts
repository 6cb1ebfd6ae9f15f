/** Host paths of the data that Python packages ship, for hiding from agent code (private). */
import { join } from "node:path";

/** Where Debian and pip put Python packages. */
const PACKAGE_ROOTS = ["/usr/lib/python3/dist-packages"];
/** Folders under a package's `datasets` that hold only data (scikit-learn's layout). */
const DATA_DIRS = new Set(["data", "descr", "images"]);
/** File types that are data, not code, under a package's `datasets` (statsmodels keeps them beside its loaders). */
const DATA_FILE =
  /\.(csv|csv\.gz|gz|bz2|xz|zip|arff|dta|rst|txt|tsv|json|npy|npz|pkl|jpg|png)$/i;

function entries(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
}

function filesUnder(dir: string, depth: number, out: string[]): void {
  for (const e of entries(dir)) {
    const path = join(dir, e.name);
    if (e.isFile && DATA_FILE.test(e.name)) out.push(path);
    else if (e.isDirectory && depth > 0 && e.name !== "__pycache__") {
      filesUnder(path, depth - 1, out);
    }
  }
}

/**
 * The data folders and files of every installed Python package that has a `datasets` folder
 * (scikit-learn, statsmodels, …): `datasets/{data,descr,images}` whole, and data files elsewhere
 * under `datasets/` (the loaders' modules stay, so `import statsmodels.api` still works). Sorted.
 */
export function pythonDataPaths(
  roots: readonly string[] = PACKAGE_ROOTS,
): string[] {
  const out: string[] = [];
  for (const root of roots) {
    for (const pkg of entries(root)) {
      if (!pkg.isDirectory) continue;
      const datasets = join(root, pkg.name, "datasets");
      for (const e of entries(datasets)) {
        const path = join(datasets, e.name);
        if (e.isDirectory && DATA_DIRS.has(e.name)) out.push(path);
        else if (e.isDirectory && e.name !== "__pycache__") {
          filesUnder(path, 2, out);
        } else if (e.isFile && DATA_FILE.test(e.name)) out.push(path);
      }
    }
  }
  return out.sort();
}
