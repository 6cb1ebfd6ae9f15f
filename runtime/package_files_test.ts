import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mappaCacheDir, packageDir } from "./package_files.ts";

/** Serves `files` under /pkg/ on a loopback port, counting requests. */
function serve(files: Record<string, string>) {
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      requests++;
      const path = new URL(req.url).pathname.replace(/^\/pkg\//, "");
      const text = files[path];
      return text === undefined
        ? new Response("not found", { status: 404 })
        : new Response(text);
    },
  );
  return {
    url: new URL(`http://127.0.0.1:${server.addr.port}/pkg/`),
    requests: () => requests,
    close: () => server.shutdown(),
  };
}

Deno.test("packageDir copies a package served over HTTP into the cache once, and uses the copy offline", async (t) => {
  const cache = await Deno.makeTempDir();
  const before = Deno.env.get("MAPPA_CACHE");
  Deno.env.set("MAPPA_CACHE", cache);
  try {
    assert.equal(mappaCacheDir(), cache);
    const server = serve({ "a.bpf": "AAAA", "sub/b.py": "print(1)\n" });
    let dir = "";
    await t.step("copied, with sub-folders", async () => {
      dir = await packageDir(server.url, ["a.bpf", "sub/b.py"]);
      assert.ok(dir.startsWith(join(cache, "package")));
      assert.equal(await Deno.readTextFile(join(dir, "a.bpf")), "AAAA");
      assert.equal(
        await Deno.readTextFile(join(dir, "sub/b.py")),
        "print(1)\n",
      );
      assert.equal(server.requests(), 2);
    });
    await server.close();
    await t.step("a second call reads nothing from the network", async () => {
      assert.equal(await packageDir(server.url, ["a.bpf", "sub/b.py"]), dir);
    });
    await t.step(
      "a missing file is an error naming it and its URL; nothing half-copied is kept",
      async () => {
        const other = serve({ "a.bpf": "AAAA" });
        try {
          await assert.rejects(
            packageDir(other.url, ["a.bpf", "gone.py"]),
            (e: Error) =>
              e.message.startsWith(
                `Cannot copy mappa's file "gone.py" from ${other.url.href}gone.py: HTTP 404;`,
              ),
          );
          const left = [...Deno.readDirSync(join(cache, "package"))].map((e) =>
            e.name
          );
          assert.deepEqual(left, [dir.split("/").at(-1)]);
        } finally {
          await other.close();
        }
      },
    );
  } finally {
    if (before === undefined) Deno.env.delete("MAPPA_CACHE");
    else Deno.env.set("MAPPA_CACHE", before);
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("packageDir returns a checkout's own folder without copying", async () => {
  const here = new URL("./", import.meta.url);
  assert.equal(
    await packageDir(here, ["package_files.ts"]),
    fileURLToPath(here),
  );
});
