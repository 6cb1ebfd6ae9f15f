import assert from "node:assert/strict";
import { TRAINER_FILES } from "../training/trainer_files.ts";

Deno.test("TRAINER_FILES lists every module of the Python trainer package, so a copied trainer imports", async () => {
  const onDisk: string[] = [];
  for await (const e of Deno.readDir(new URL("../trainer/", import.meta.url))) {
    if (e.isFile && e.name.endsWith(".py")) onDisk.push(`trainer/${e.name}`);
  }
  assert.deepEqual([...TRAINER_FILES].sort(), onDisk.sort());
});
