/**
 * The `mappa` command as a user installs it from a URL (README "Install"): `deno install` from this
 * repository served over loopback HTTP, then `mappa check|run|train` in a folder of the user's own,
 * with no checkout in sight: the sandbox's seccomp programs and the Python trainer are copied into
 * mappa's cache on first use.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const REPO = new URL("../", import.meta.url);

/** Serves the repository's files as raw.githubusercontent.com does (text/plain) under /<prefix>/. */
function serveRepo(prefix: string) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (!path.startsWith(`/${prefix}/`) || path.includes("..")) {
        return new Response("not found", { status: 404 });
      }
      try {
        const body = await Deno.readFile(
          new URL(path.slice(prefix.length + 2), REPO),
        );
        return new Response(body, {
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    // Only what a user's shell has: no INIT_CWD from a `deno task test` run, so mappa names itself.
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: o.code,
    out: dec.decode(o.stdout) + dec.decode(o.stderr),
  };
}

Deno.test("mappa installed from a URL checks, runs and trains a spec in the user's own folder", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "mappa_install_" });
  // A prefix of its own, so Deno's module cache never answers for another run of this test.
  const prefix = `mappa-${crypto.randomUUID().slice(0, 8)}`;
  const server = serveRepo(prefix);
  const base = `http://127.0.0.1:${server.addr.port}/${prefix}/`;
  const env = { MAPPA_CACHE: join(tmp, "cache") };
  const work = join(tmp, "work");
  const mappa = join(tmp, "root", "bin", "mappa");
  try {
    await t.step("one deno install line", async () => {
      const r = await sh(
        Deno.execPath(),
        [
          "install",
          "-g",
          "-A",
          "-f",
          "--root",
          join(tmp, "root"),
          "-n",
          "mappa",
          "--import-map",
          `${base}deno.json`,
          `${base}cli.ts`,
        ],
        tmp,
        env,
      );
      assert.equal(r.code, 0, r.out);
      // The user's folder: a copy of the shipped specs, no cli.ts, no trainer/, no runtime/.
      await new Deno.Command("cp", {
        args: ["-r", new URL("../pipelines", import.meta.url).pathname, work],
      }).output();
    });
    await t.step(
      "mappa with no command prints usage naming `mappa`",
      async () => {
        const r = await sh(mappa, [], work, env);
        assert.equal(r.code, 2);
        assert.match(r.out, /^ {2}mappa run <spec>/m);
      },
    );
    await t.step("mappa check", async () => {
      const r = await sh(mappa, ["check", "math.yaml"], work, env);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /math\.yaml: ok/);
    });
    await t.step(
      "mappa run: tools run in the bwrap jail with the seccomp program from the cache",
      async () => {
        const r = await sh(
          mappa,
          ["run", "math.yaml", "--limit", "1"],
          work,
          env,
        );
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /tool executions: [1-9]\d*, 0 not ok/);
        assert.match(r.out, /report: mappa report runs\//);
        const copies = [...Deno.readDirSync(join(tmp, "cache", "package"))];
        const bpf = copies.some((c) => {
          try {
            return Deno.statSync(
              join(tmp, "cache", "package", c.name, `${Deno.build.arch}.bpf`),
            ).size > 0;
          } catch {
            return false;
          }
        });
        assert.ok(bpf, "the seccomp program was copied into the cache");
      },
    );
    await t.step(
      "mappa train: the local trainer runs from its copy in the cache",
      async () => {
        const r = await sh(
          mappa,
          ["train", "relay.yaml", "--steps", "1"],
          work,
          env,
        );
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /adapter drafter@1: runs\/\S+ \(PEFT format\)/);
      },
    );
  } finally {
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});
