// Issue 14, item 4: rescore finds the judge where the spec serves it now (its ${env.…} read again), stops
// before writing anything when that judge cannot be reached, and exits 1 when actions stay unscored.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startOpenAIServer } from "./fakes/openai_server.ts";
import { runCli as cli } from "./run_cli.ts";

function rescore(dir: string, rubric: string, coachUrl: string) {
  return cli(["rescore", dir, "--rubric", rubric], Deno.cwd(), {
    MAPPA_COACH_URL: coachUrl,
  });
}

Deno.test("rescore reaches the judge the spec names now, refuses an unreachable one, and exits 1 on unscored actions", async () => {
  const out = await Deno.makeTempDir({ prefix: "mappa_rescore_judge_" });
  const run = await cli([
    "run",
    "pipelines/math.yaml",
    "--limit",
    "1",
    "--out",
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const [name] = [...Deno.readDirSync(out)].map((e) => e.name);
  const dir = join(out, name!);
  const rubric = join(out, "judged.yaml");
  await Deno.writeTextFile(
    rubric,
    'name: judged\ntemplate: "Score this reply: {{ action.output }}"\n',
  );
  const layerFiles = () => {
    try {
      return [...Deno.readDirSync(join(dir, "scores"))].filter((e) =>
        e.name.startsWith("judged@")
      ).length;
    } catch {
      return 0; // no scores/ folder: nothing written
    }
  };

  // The recorded judge (no URL when the run was made) is gone; nothing answers on this port either.
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadUrl = `http://127.0.0.1:${(dead.addr as Deno.NetAddr).port}/v1`;
  dead.close();
  const refused = await rescore(dir, rubric, deadUrl);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^mappa: Cannot reach model "coach" /m);
  assert.equal(layerFiles(), 0, "no unscored verdicts written");

  {
    await using failing = await startOpenAIServer({
      respond: () => ({ kind: "status", status: 400, message: "bad" }),
    });
    const unscored = await rescore(dir, rubric, failing.url);
    assert.equal(unscored.code, 1, unscored.stderr);
    assert.match(
      unscored.stderr,
      /^mappa: \d+ actions? left unscored .*; run the same rescore again/m,
    );
  }

  await using judge = await startOpenAIServer({
    respond: () => ({
      kind: "reply",
      reply: {
        text: JSON.stringify({ reasoning: "fine", score: 7, blame: null }),
      },
    }),
  });
  const ok = await rescore(dir, rubric, judge.url);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^judged@[0-9a-f]{12}: \d+ verdicts? written/);
  assert.ok(judge.requests.length > 0, "the judge of MAPPA_COACH_URL answered");
  await Deno.remove(out, { recursive: true });
});
