// deno task bundle and specs that travel (README.md "Sharing specs"), through the CLI as a user runs it:
// every shipped spec survives a bundle round trip with its spec_hash, a bundle runs from a loopback URL
// end to end and again from the cache with the server gone, pins are checked, --allow-read opens
// exactly what it names.
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../dsl/bundle.ts";
import { runCli } from "./run_cli.ts";

/** Every shipped YAML spec (the TS one is refused: a program is no shareable spec). */
const SHIPPED = [...Deno.readDirSync("pipelines")]
  .filter((e) => e.isFile && e.name.endsWith(".yaml"))
  .map((e) => e.name.slice(0, -".yaml".length))
  .sort();

interface CheckReport {
  spec: string;
  ok: boolean;
  spec_hash: string | null;
}

Deno.test("every shipped spec bundles into one file that compiles to the same spec_hash; a TS spec is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_bundles_" });
  const env = { MAPPA_CACHE: join(dir, "cache") };
  try {
    const bundles: string[] = [];
    for (const name of SHIPPED) {
      const out = join(dir, `${name}.bundle.yaml`);
      // The DSBench data is built (deno task dsbench:build) or the user's own: bundled without it.
      const noData = name.startsWith("dsbench") ? ["--no-data"] : [];
      const r = await runCli(
        ["bundle", `pipelines/${name}.yaml`, "-o", out, ...noData],
        Deno.cwd(),
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`bundled \\d+ files .*; pin it: #sha256=[0-9a-f]{64}`),
      );
      assert.ok(
        r.stderr.includes(
          `#sha256=${sha256Hex(await Deno.readFile(out))}`,
        ),
        "the pin printed is the file's",
      );
      bundles.push(out);
    }
    const originals = SHIPPED.map((n) => `pipelines/${n}.yaml`);
    const r = await runCli(
      ["check", ...originals, ...bundles, "--format", "json"],
      Deno.cwd(),
      env,
    );
    const reports = JSON.parse(r.stdout) as CheckReport[];
    for (const [i, name] of SHIPPED.entries()) {
      const [a, b] = [reports[i]!, reports[i + SHIPPED.length]!];
      assert.ok(a.ok && b.ok, `${name}: ${r.stderr}`);
      assert.equal(b.spec_hash, a.spec_hash, name);
    }
    // The math bundle holds its prompts, rubric, demo policy and data, relative to pipelines/.
    const math = await Deno.readTextFile(join(dir, "math.bundle.yaml"));
    for (
      const path of [
        "math.yaml:",
        "demo/math.yaml:",
        "data/math/aime_2025.json:",
        "data/math/README.md:",
        "rubrics/",
        "prompts/",
      ]
    ) {
      assert.ok(math.includes(`\n  ${path}`), path);
    }
    const ts = await runCli(["bundle", "pipelines/review.ts"], Deno.cwd(), env);
    assert.equal(ts.code, 2);
    assert.match(
      ts.stderr,
      /^mappa: Cannot bundle the TS spec "pipelines\/review\.ts": a TS spec is a program/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bundle runs from a loopback URL with run --limit 1, then from the cache with the server stopped; a wrong pin exits 2 naming both hashes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_url_" });
  const env = { MAPPA_CACHE: join(dir, "cache") };
  try {
    const file = join(dir, "math.bundle.yaml");
    const made = await runCli(
      ["bundle", "pipelines/math.yaml", "-o", file],
      Deno.cwd(),
      env,
    );
    assert.equal(made.code, 0, made.stderr);
    const bytes = await Deno.readFile(file);
    const pin = sha256Hex(bytes);
    let hits = 0;
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => {
        hits++;
        return new Response(bytes);
      },
    );
    const url = `http://127.0.0.1:${server.addr.port}/math.bundle.yaml`;
    const wrong = "f".repeat(64);
    const bad = await runCli(["check", `${url}#sha256=${wrong}`], dir, env);
    assert.equal(bad.code, 2, bad.stderr);
    assert.ok(
      bad.stderr.includes(`its sha256 is ${pin}, the pin says ${wrong}`),
      bad.stderr,
    );
    const out = join(dir, "runs");
    const first = await runCli(
      ["run", `${url}#sha256=${pin}`, "--limit", "1", "--out", out],
      dir,
      env,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /episodes: 1 completed, 0 failed of 1/);
    await server.shutdown();
    const before = hits;
    const second = await runCli(
      ["run", `${url}#sha256=${pin}`, "--limit", "1", "--out", out],
      dir,
      env,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /episodes: 1 completed, 0 failed of 1/);
    assert.equal(hits, before);
    // Both runs ran the bundle unpacked in the cache, not anything of the checkout.
    for (const run of Deno.readDirSync(out)) {
      const manifest = JSON.parse(
        await Deno.readTextFile(join(out, run.name, "manifest.json")),
      );
      assert.ok(
        manifest.spec_file.startsWith(join(dir, "cache", "bundles")),
        manifest.spec_file,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check refuses a local spec reading outside its folder, and --allow-read lets exactly that file through", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_allow_" });
  try {
    await Deno.mkdir(join(dir, "spec"));
    await Deno.writeTextFile(join(dir, "shared.md"), "Solve {{ task.q }}");
    await Deno.writeTextFile(join(dir, "other.md"), "Solve {{ task.q }}");
    const spec = (prompt: string) =>
      `version: 1
name: allowed
models:
  m: { model: m }
roles:
  - { id: solver, description: Solves, model: m, prompts: { user: "${prompt}" } }
dataset:
  splits: { eval: https://example.com/t.jsonl }
  fields: { inputs: { q: q } }
`;
    const file = join(dir, "spec", "s.yaml");
    await Deno.writeTextFile(file, spec("file://../shared.md"));
    const refused = await runCli(["check", file]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /error\[include_outside_folder\]: Cannot read included file ".*shared\.md": it is outside the spec's folder/,
    );
    const allowed = await runCli([
      "check",
      file,
      "--allow-read",
      join(dir, "shared.md"),
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    await Deno.writeTextFile(file, spec("file://../other.md"));
    const other = await runCli([
      "check",
      file,
      "--allow-read",
      join(dir, "shared.md"),
    ]);
    assert.equal(other.code, 1, "a file beside the allowed one got through");
    // A bundle holds only files inside the spec's folder, allowed or not.
    await Deno.writeTextFile(file, spec("file://../shared.md"));
    const bundled = await runCli([
      "bundle",
      file,
      "--allow-read",
      join(dir, "shared.md"),
    ]);
    assert.equal(bundled.code, 2);
    assert.match(
      bundled.stderr,
      /a bundle holds only files inside the spec's folder, so copy it there/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check refuses a spec from a URL whose data comes over plain http, and one that includes a local file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mappa_url_data_" });
  const env = { MAPPA_CACHE: join(dir, "cache") };
  const spec = (prompt: string, split: string) =>
    `version: 1
name: fetched
models:
  m: { model: m }
roles:
  - { id: solver, description: Solves, model: m, prompts: { user: "${prompt}" } }
dataset:
  splits: { eval: "${split}" }
  fields: { inputs: { q: q } }
`;
  const files: Record<string, string> = {
    "/http.yaml": spec("Solve {{ task.q }}", "http://example.com/t.jsonl"),
    "/passwd.yaml": spec("file:///etc/passwd", "https://example.com/t.jsonl"),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new Response(files[new URL(req.url).pathname] ?? ""),
  );
  const url = (p: string) => `http://127.0.0.1:${server.addr.port}${p}`;
  try {
    const http = await runCli(["check", url("/http.yaml")], dir, env);
    assert.equal(http.code, 2, http.stderr);
    assert.match(
      http.stderr,
      /its split "eval" is fetched from "http:\/\/example\.com\/t\.jsonl", not over https/,
    );
    assert.match(
      http.stderr,
      /warning: spec ".*" is not pinned: .*#sha256=[0-9a-f]{64}/,
    );
    const passwd = await runCli(["check", url("/passwd.yaml")], dir, env);
    assert.equal(passwd.code, 1, passwd.stderr);
    assert.match(
      passwd.stderr,
      /error\[include_outside_folder\]: Cannot read included file "\/etc\/passwd": it is outside the spec's folder/,
    );
    assert.ok(!passwd.stderr.includes("root:x:0"), "the file was read");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check and bundle refuse an --allow-read path that does not exist (exit 2), and the printed pin is the file's sha256", async () => {
  for (const command of ["check", "bundle"]) {
    const r = await runCli([
      command,
      "pipelines/math.yaml",
      "--allow-read",
      "no/such/folder",
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /Cannot allow reading "no\/such\/folder" \(--allow-read\): no such file or folder/,
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "m.bundle.yaml");
    const r = await runCli(["bundle", "pipelines/relay.yaml", "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    const pin = /#sha256=([0-9a-f]{64})/.exec(r.stderr)?.[1];
    assert.equal(pin, sha256Hex(await Deno.readFile(out)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
