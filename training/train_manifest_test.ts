import assert from "node:assert/strict";
import { join } from "node:path";
import { readTrainManifest, TrainManifestSchema } from "./train_manifest.ts";

const OLD_RUN = new URL("../tests/fixtures/old_train_run", import.meta.url)
  .pathname;

Deno.test("readTrainManifest() reads a train.json written before the schema, as written", async () => {
  const manifest = await readTrainManifest(OLD_RUN, "report on it");
  assert.deepEqual(
    manifest,
    JSON.parse(await Deno.readTextFile(join(OLD_RUN, "train.json"))),
  );
  assert.ok(TrainManifestSchema.safeParse(manifest).success);
});

Deno.test("readTrainManifest() names the file, what is wrong and the fix, in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      readTrainManifest(dir, "resume it"),
      /^RangeError: Cannot resume it: it has no train\.json; pass a directory that deno task train wrote$/,
    );
    const old = JSON.parse(
      await Deno.readTextFile(join(OLD_RUN, "train.json")),
    );
    for (
      const [bad, why] of [
        [{ kind: "run" }, 'kind "run"'],
        [{ ...old, sessions: "1" }, "sessions: "],
        [
          { ...old, train: {} },
          "train: expected the train settings, with roles",
        ],
      ] as const
    ) {
      await Deno.writeTextFile(join(dir, "train.json"), JSON.stringify(bad));
      const e = await readTrainManifest(dir, "resume it").catch((e) => e);
      assert.ok(e instanceof RangeError);
      assert.ok(
        e.message.startsWith(
          `Cannot resume it: its train.json is not a training manifest (${why}`,
        ),
        e.message,
      );
      assert.doesNotMatch(e.message, /\n/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
