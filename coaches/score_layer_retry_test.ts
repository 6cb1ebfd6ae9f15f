import assert from "node:assert/strict";
import { readLayer } from "./score_layer.ts";
import { fixtureVerdict } from "../tests/fixtures/score_layer_fixture.ts";
import { ScoreLayerWriter } from "./score_layer_writer.ts";

Deno.test("a verdict left unscored by a judge error is retried; a scored one is final", async () => {
  const dir = await Deno.makeTempDir();
  const rubric = { name: "r", hash: "h1" };
  const key = { episode_id: "e1", attempt: 1, action_index: 0 };
  const failed = fixtureVerdict({
    episode_id: "e1",
    action_index: 0,
    score: null,
    rubric,
  });
  assert.equal(failed.reason, "judge_error");
  const first = await ScoreLayerWriter.open(dir, rubric);
  assert.equal(await first.append(failed), true);
  assert.equal(first.has(key), false, "a judge error leaves the action open");
  await first.close();
  const second = await ScoreLayerWriter.open(dir, rubric);
  assert.equal(second.has(key), false);
  assert.equal(
    await second.append(
      fixtureVerdict({ episode_id: "e1", action_index: 0, score: 6, rubric }),
    ),
    true,
  );
  assert.equal(second.has(key), true);
  assert.equal(
    await second.append(
      fixtureVerdict({ episode_id: "e1", action_index: 0, score: 9, rubric }),
    ),
    false,
  );
  await second.close();
  const verdicts = await readLayer(dir, "r@h1");
  assert.deepEqual(verdicts.map((v) => [v.status, v.score]), [["scored", 6]]);
  await Deno.remove(dir, { recursive: true });
});
