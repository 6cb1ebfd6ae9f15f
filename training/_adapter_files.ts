import { createTarDecoder } from "modern-tar";
import { join } from "node:path";

// Writes a trainer's adapter tar (GET /v1/policies/{id}/adapter) into the directory an inference engine
// loads it from. Deno has no tar reader of its own (std's is on JSR, unreachable here), hence modern-tar,
// which streams, so a large adapter is never held in memory whole.

/** A PEFT adapter directory is flat: only plain files with these names' characters. */
const ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_ENTRIES = 64;
const MAX_BYTES = 64 * 2 ** 30;

/**
 * Checks that `dir` exists, is a directory and can be written, before anything is delivered into it.
 * Throws a one-line message naming the setting and the fix.
 */
export async function checkAdapterDir(dir: string): Promise<void> {
  const fix =
    "create it (mkdir -p) on a filesystem that every engine mounts at the same path, or set train.rollout.adapter_dir to one";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    throw new Error(
      `Cannot deliver adapters into train.rollout.adapter_dir "${dir}": ${
        e instanceof Deno.errors.NotFound
          ? "it does not exist"
          : e instanceof Error
          ? e.message
          : String(e)
      }; ${fix}`,
    );
  }
  if (!info.isDirectory) {
    throw new Error(
      `Cannot deliver adapters into train.rollout.adapter_dir "${dir}": it is not a directory; ${fix}`,
    );
  }
  const probe = join(dir, `.mappa-write-check-${Deno.pid}`);
  try {
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (e) {
    throw new Error(
      `Cannot deliver adapters into train.rollout.adapter_dir "${dir}": it cannot be written (${
        e instanceof Error ? e.message : String(e)
      }); make it writable by this user, or ${fix}`,
    );
  }
}

/**
 * Unpacks a tar of a PEFT adapter directory into `<parent>/<name>/`, atomically (a temporary directory
 * renamed into place; an existing `<name>` is refused), readable by other users (the engine may run as one).
 * Only flat, plain files are accepted: a path, a link or a device entry is refused, so a tar can never
 * write outside the directory. The result must hold `adapter_config.json` and the weights.
 */
export async function writeAdapter(
  tar: ReadableStream<Uint8Array>,
  parent: string,
  name: string,
): Promise<string> {
  const final = join(parent, name);
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: `.${name}.` });
  try {
    const seen = new Set<string>();
    let bytes = 0;
    const decoder = createTarDecoder({ strict: true });
    for await (const entry of tar.pipeThrough(decoder)) {
      const h = entry.header;
      const file = h.name.replace(/^\.\//, "");
      const type = h.type ?? "file";
      if (type === "directory" && (file === "" || file === "./")) {
        await entry.body.cancel();
        continue;
      }
      if (type !== "file" || !ENTRY_NAME.test(file) || seen.has(file)) {
        await entry.body.cancel();
        throw new Error(
          `Cannot unpack adapter "${name}": its archive holds ${type} entry ${
            JSON.stringify(h.name.slice(0, 200))
          }, not a plain file of a flat PEFT directory; the trainer must send only adapter files`,
        );
      }
      seen.add(file);
      bytes += h.size;
      if (seen.size > MAX_ENTRIES || bytes > MAX_BYTES) {
        await entry.body.cancel();
        throw new Error(
          `Cannot unpack adapter "${name}": its archive holds more than ${MAX_ENTRIES} files or ${
            MAX_BYTES / 2 ** 30
          } GiB; the trainer must send only adapter files`,
        );
      }
      const out = await Deno.open(join(tmp, file), {
        createNew: true,
        write: true,
        mode: 0o644,
      });
      await entry.body.pipeTo(out.writable);
    }
    if (!seen.has("adapter_config.json")) {
      throw new Error(
        `Cannot unpack adapter "${name}": its archive has no adapter_config.json (files: ${
          [...seen].join(", ") || "none"
        }); the trainer must send a PEFT adapter directory`,
      );
    }
    if (
      !seen.has("adapter_model.safetensors") && !seen.has("adapter_model.bin")
    ) {
      throw new Error(
        `Cannot unpack adapter "${name}": its archive has neither adapter_model.safetensors nor adapter_model.bin; the trainer must send a PEFT adapter directory`,
      );
    }
    await Deno.chmod(tmp, 0o755);
    // Names are never reused by a run, so an existing directory is another run's: never replace it
    // (an engine re-reads adapters from disk after evicting them from its CPU cache).
    const taken = await Deno.lstat(final).then(() => true, () => false);
    if (taken) {
      throw new Error(
        `Cannot write adapter "${name}" to ${final}: that directory exists, so another run with the same run id uses this train.rollout.adapter_dir; give each run its own adapter_dir, or start them at least a second apart`,
      );
    }
    await Deno.rename(tmp, final);
    return final;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
