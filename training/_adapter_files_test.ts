import assert from "node:assert/strict";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { writeAdapter } from "./_adapter_files.ts";

const enc = new TextEncoder();

async function tarOf(
  files: Record<string, string>,
): Promise<ReadableStream<Uint8Array>> {
  const bytes = await packTar(
    Object.entries(files).map(([name, body]) => ({
      header: { name, size: enc.encode(body).length, type: "file" as const },
      body: enc.encode(body),
    })),
  );
  return new Blob([bytes]).stream();
}

const PEFT = { "adapter_config.json": "{}", "adapter_model.bin": "w" };

Deno.test("writeAdapter() unpacks a flat PEFT directory and never replaces another run's", async () => {
  const parent = await Deno.makeTempDir();
  try {
    const dir = await writeAdapter(await tarOf(PEFT), parent, "run.a@v1");
    assert.equal(dir, join(parent, "run.a@v1"));
    assert.equal(
      await Deno.readTextFile(join(dir, "adapter_config.json")),
      "{}",
    );
    await assert.rejects(
      writeAdapter(await tarOf(PEFT), parent, "run.a@v1"),
      /^Error: Cannot write adapter "run\.a@v1" to .*: that directory exists, so another run with the same run id uses this train\.rollout\.adapter_dir/,
    );
    assert.equal(await Deno.readTextFile(join(dir, "adapter_model.bin")), "w");
    await assert.rejects(
      writeAdapter(
        await tarOf({ ...PEFT, "../escape": "x" }),
        parent,
        "run.a@v2",
      ),
      /holds file entry "\.\.\/escape", not a plain file of a flat PEFT directory/,
    );
    await assert.rejects(
      writeAdapter(
        await tarOf({ "adapter_config.json": "{}" }),
        parent,
        "run.a@v3",
      ),
      /neither adapter_model\.safetensors nor adapter_model\.bin/,
    );
    assert.deepEqual(
      [...Deno.readDirSync(parent)].map((e) => e.name).sort(),
      ["run.a@v1"],
      "failed writes leave no directory behind",
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
