import assert from "node:assert/strict";
import { join } from "node:path";

// buildSamples must find each action's verdict through `verdictKey` alone: if samples built the key by
// hand, a change of the key format would mask every sample as unscored without an error. The test runs
// buildSamples in a child whose import map swaps in a verdictKey with another format.

const ROOT = new URL("../", import.meta.url);
const FORMAT = new URL("coaches/score_layer_format.ts", ROOT);

const PROBE = `
import { buildSamples } from "${new URL("training/samples.ts", ROOT).href}";
import { verdictKey } from "${FORMAT.href}";
import { action, finished, modelCall, started, verdict } from "${
  new URL("tests/fixtures/training_fixtures.ts", ROOT).href
}";
const events = [
  started("e1"),
  action("e1", "solver", 0, { call: modelCall({ policy_version: 0 }) }),
  finished("e1", { success: true }),
];
const v = verdict("e1", "solver", 0, 7);
const out = buildSamples(events, new Map([[verdictKey(v), v]]), {
  runId: "r1",
  versions: { solver: 0 },
  reward: { scale: 0.1, offset: 0, unscored: "mask", outcome_weight: 0 },
  maskTruncated: false,
});
console.log(JSON.stringify({ key: verdictKey(v), scores: out.solver.scores, masked: out.solver.masked, sent: out.solver.samples.length }));
`;

Deno.test("buildSamples() keys verdicts by verdictKey, so a new key format still finds them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_samples_key_" });
  try {
    const source = await Deno.readTextFile(FORMAT);
    const body =
      "return `${key.episode_id}#${key.attempt}#${key.action_index}`;";
    assert.ok(
      source.includes(body),
      "verdictKey's body moved: update this test",
    );
    const patched = join(dir, "score_layer_format.ts");
    await Deno.writeTextFile(
      patched,
      source
        .replace(
          body,
          "return `${key.action_index}|${key.attempt}|${key.episode_id}`;",
        )
        .replaceAll(
          /from "(\.\.?\/[^"]+)"/g,
          (_, f) => `from "${new URL(f, FORMAT).href}"`,
        ),
    );
    const config = JSON.parse(
      await Deno.readTextFile(new URL("deno.json", ROOT)),
    );
    await Deno.writeTextFile(
      join(dir, "import_map.json"),
      JSON.stringify({
        imports: { ...config.imports, [FORMAT.href]: `file://${patched}` },
      }),
    );
    await Deno.writeTextFile(join(dir, "probe.ts"), PROBE);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--no-lock",
        `--import-map=${join(dir, "import_map.json")}`,
        join(dir, "probe.ts"),
      ],
      cwd: new URL(".", ROOT).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const seen = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(
      seen.key,
      "0|1|e1",
      "the child did not use the swapped verdictKey",
    );
    assert.deepEqual(seen, { key: "0|1|e1", scores: [7], masked: {}, sent: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
