import assert from "node:assert/strict";
import { join } from "node:path";
import {
  layerPath,
  listLayers,
  readLayer,
  resolveLayer,
  ScoreLayerError,
  ScoreLayerWriter,
  verdictKey,
} from "./score_layer.ts";
import { fixtureVerdict } from "../tests/fixtures/score_layer_fixture.ts";

const RUBRIC = { name: "math", hash: "aaaaaaaaaaaa" };
const LAYER = "math@aaaaaaaaaaaa";

function verdicts(n: number, score = 5) {
  return Array.from(
    { length: n },
    (_, i) => fixtureVerdict({ episode_id: "e1", action_index: i, score }),
  );
}

Deno.test("ScoreLayerWriter serialises concurrent appends and keeps one verdict per action", async () => {
  const run = await Deno.makeTempDir();
  const layer = await ScoreLayerWriter.open(run, RUBRIC);
  const all = verdicts(50);
  const written = await Promise.all([
    ...all.map((v) => layer.append(v)),
    layer.append(all[3]!),
  ]);
  await layer.close();
  assert.equal(written.filter((w) => w).length, 50);
  assert.equal(written.at(-1), false);
  const lines = (await Deno.readTextFile(layerPath(run, LAYER))).split("\n");
  assert.equal(lines.pop(), "");
  assert.deepEqual(lines.map((l) => JSON.parse(l)), all);
  assert.deepEqual(await readLayer(run, LAYER), all);
});

Deno.test("ScoreLayerWriter.open() never rewrites a layer and appends only the actions it lacks", async () => {
  const run = await Deno.makeTempDir();
  const first = await ScoreLayerWriter.open(run, RUBRIC);
  for (const v of verdicts(3)) await first.append(v);
  await first.close();
  const before = await Deno.readTextFile(layerPath(run, LAYER));

  const again = await ScoreLayerWriter.open(run, RUBRIC);
  assert.equal(again.size, 3);
  assert.ok(again.has({ episode_id: "e1", attempt: 1, action_index: 2 }));
  const added = [];
  for (const v of verdicts(5, 9)) added.push(await again.append(v));
  await again.close();
  assert.deepEqual(added, [false, false, false, true, true]);
  const after = await Deno.readTextFile(layerPath(run, LAYER));
  assert.ok(after.startsWith(before));
  assert.deepEqual(
    (await readLayer(run, LAYER)).map((v) => v.score),
    [5, 5, 5, 9, 9],
  );
});

Deno.test("ScoreLayerWriter.append() rejects an invalid verdict and another rubric's", async () => {
  const run = await Deno.makeTempDir();
  const layer = await ScoreLayerWriter.open(run, RUBRIC);
  const bad = {
    ...fixtureVerdict({ episode_id: "e", action_index: 0, score: 1 }),
    attempt: 0,
  };
  await assert.rejects(layer.append(bad), /attempt/);
  const other = fixtureVerdict({
    episode_id: "e",
    action_index: 0,
    score: 1,
    rubric: { name: "math", hash: "bbbbbbbbbbbb" },
  });
  await assert.rejects(layer.append(other), /math@bbbbbbbbbbbb/);
  assert.equal(layer.size, 0);
  await layer.close();
  await assert.rejects(layer.append(verdicts(1)[0]!), ScoreLayerError);
  assert.equal(await Deno.readTextFile(layerPath(run, LAYER)), "");
});

Deno.test("readLayer() drops a torn last line but rejects a broken line before it", async () => {
  const run = await Deno.makeTempDir();
  await Deno.mkdir(join(run, "scores"));
  const path = layerPath(run, LAYER);
  const [a, b] = verdicts(2);
  await Deno.writeTextFile(
    path,
    `${JSON.stringify(a)}\n${JSON.stringify(b).slice(0, 40)}`,
  );
  assert.deepEqual(await readLayer(run, LAYER), [a]);

  await Deno.writeTextFile(path, `${JSON.stringify(a)}\n{"nope":1}\n`);
  await assert.rejects(
    readLayer(run, LAYER),
    (e) =>
      e instanceof ScoreLayerError && /line 2 is not a verdict/.test(e.message),
  );
});

Deno.test("readLayer() keeps the first verdict of an action written twice", async () => {
  const run = await Deno.makeTempDir();
  await Deno.mkdir(join(run, "scores"));
  const a = fixtureVerdict({ episode_id: "e", action_index: 0, score: 2 });
  const dup = fixtureVerdict({ episode_id: "e", action_index: 0, score: 8 });
  const text = [a, dup].map((v) => JSON.stringify(v) + "\n").join("");
  await Deno.writeTextFile(layerPath(run, LAYER), text);
  assert.deepEqual((await readLayer(run, LAYER)).map((v) => v.score), [2]);
});

Deno.test("ScoreLayerWriter.open() cuts a torn last line and completes an unterminated record", async () => {
  const run = await Deno.makeTempDir();
  await Deno.mkdir(join(run, "scores"));
  const path = layerPath(run, LAYER);
  const [a, b, c] = verdicts(3);
  await Deno.writeTextFile(path, `${JSON.stringify(a)}\n{"run_id":"de`);
  const torn = await ScoreLayerWriter.open(run, RUBRIC);
  assert.equal(torn.repairedBytes, '{"run_id":"de'.length);
  await torn.append(b!);
  await torn.close();
  assert.deepEqual(await readLayer(run, LAYER), [a, b]);

  await Deno.writeTextFile(path, JSON.stringify(c), { append: true });
  const open = await ScoreLayerWriter.open(run, RUBRIC);
  assert.equal(open.repairedBytes, 0);
  assert.equal(open.size, 3);
  await open.append(
    fixtureVerdict({ episode_id: "e2", action_index: 0, score: 1 }),
  );
  await open.close();
  assert.equal((await readLayer(run, LAYER)).length, 4);
});

Deno.test("listLayers() and resolveLayer() find layers by full name or a unique prefix", async () => {
  const run = await Deno.makeTempDir();
  assert.deepEqual(await listLayers(run), []);
  for (const hash of ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]) {
    await (await ScoreLayerWriter.open(run, { name: "math", hash })).close();
  }
  await (await ScoreLayerWriter.open(run, { name: "mathx", hash: "cc" }))
    .close();
  await Deno.writeTextFile(join(run, "scores", "notes.txt"), "");
  assert.deepEqual(await listLayers(run), [
    "math@aaaaaaaaaaaa",
    "math@bbbbbbbbbbbb",
    "mathx@cc",
  ]);
  assert.equal(
    await resolveLayer(run, "math@aaaaaaaaaaaa"),
    "math@aaaaaaaaaaaa",
  );
  assert.equal(await resolveLayer(run, "math@b"), "math@bbbbbbbbbbbb");
  assert.equal(await resolveLayer(run, "mathx"), "mathx@cc");
  await assert.rejects(
    resolveLayer(run, "math"),
    /matches "math@aaaaaaaaaaaa"/,
  );
  await assert.rejects(resolveLayer(run, "geo"), /it has "math@aaaaaaaaaaaa"/);
  await assert.rejects(readLayer(run, "geo@1"), /layers: "math@a/);
  assert.throws(() => layerPath(run, "../x"), RangeError);
  assert.equal(
    verdictKey({ episode_id: "e", attempt: 2, action_index: 0 }),
    "e#2#0",
  );
});
