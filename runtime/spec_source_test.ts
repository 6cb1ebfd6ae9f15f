// Specs from URLs and bundles (README.md "Sharing specs"), against a loopback HTTP server the test
// starts: pins, the cache, the budgets, and a fetched spec reading nothing local.
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileFile } from "../dsl/compile.ts";
import { encodeBundle, sha256Hex } from "../dsl/bundle.ts";
import { resolveSpecSource, SpecSourceError } from "./spec_source.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** A loopback server of fixed files; `hits` counts requests per path. */
function serve(files: Record<string, string>) {
  const hits = new Map<string, number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const path = new URL(req.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const body = files[path];
      return body === undefined
        ? new Response("no", { status: 404 })
        : new Response(body);
    },
  );
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    hits,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function spec(
  prompt: string,
  split = "https://example.com/t.jsonl",
  head = "",
) {
  return `${head}version: 1
name: fetched
models:
  m: { model: m }
roles:
  - { id: solver, description: Solves, model: m, prompts: { user: ${
    JSON.stringify(prompt)
  } } }
dataset:
  splits: { eval: ${JSON.stringify(split)} }
  fields: { inputs: { q: q } }
`;
}

async function tempCache(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "mappa_cache_" });
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(
    p,
    (e) => e instanceof SpecSourceError && pattern.test(e.message),
  );
}

Deno.test("a pinned URL is checked over its bytes, cached by hash, and not fetched again", async () => {
  const text = spec("Solve {{ task.q }}");
  await using server = serve({ "/s.yaml": text });
  const cache = await tempCache();
  try {
    const pin = sha256Hex(enc(text));
    const wrong = "0".repeat(64);
    const bad = resolveSpecSource(`${server.url("/s.yaml")}#sha256=${wrong}`, {
      cache,
    });
    await refused(
      bad,
      new RegExp(`its sha256 is ${pin}, the pin says ${wrong}`),
    );
    const warnings: string[] = [];
    const first = await resolveSpecSource(
      `${server.url("/s.yaml")}#sha256=${pin}`,
      { cache, warn: (l) => warnings.push(l) },
    );
    assert.equal(first.remote, true);
    assert.equal(warnings.length, 0);
    assert.equal(await Deno.readTextFile(first.file), text);
    const compiled = compileFile(first.file);
    assert.ok(compiled.ok);
    const hits = server.hits.get("/s.yaml");
    const again = await resolveSpecSource(
      `${server.url("/s.yaml")}#sha256=${pin}`,
      { cache },
    );
    assert.equal(again.file, first.file);
    assert.equal(server.hits.get("/s.yaml"), hits, "a cached pin was fetched");
    // The unpinned URL is fetched each time, with a warning that names its pin.
    await resolveSpecSource(server.url("/s.yaml"), {
      cache,
      warn: (l) => warnings.push(l),
    });
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(`#sha256=${pin}`), warnings[0]);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("URLs other than https (or loopback http), missing files, TS programs and --allow-read with a URL are refused", async () => {
  const cache = await tempCache();
  try {
    await refused(
      resolveSpecSource("http://example.com/x.yaml", { cache }),
      /only https:\/\/ URLs are fetched \(http:\/\/ only from a loopback host/,
    );
    await using server = serve({ "/x.ts": "export default {};\n" });
    await refused(
      resolveSpecSource(server.url("/none.yaml"), { cache }),
      /HTTP 404/,
    );
    await refused(
      resolveSpecSource(server.url("/x.yaml"), {
        cache,
        allowRead: ["/"],
      }),
      /Cannot use --allow-read with the spec .*: a spec from a URL never reads local files/,
    );
    await refused(
      resolveSpecSource(server.url("/x.ts"), { cache }),
      /Cannot run the TS spec .* from a URL: a TS spec is a program/,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("a spec from a URL reads nothing local: file:///etc/passwd, ../, absolute paths and local datasets are refused", async () => {
  const cache = await tempCache();
  const outside = await Deno.makeTempDir({ prefix: "mappa_outside_" });
  await Deno.writeTextFile(join(outside, "secret.md"), "SECRET");
  await Deno.writeTextFile(join(outside, "t.jsonl"), '{"q": "1"}\n');
  const cases: Record<string, [string, RegExp]> = {
    "/passwd.yaml": [
      spec("file:///etc/passwd"),
      /"\/etc\/passwd": it is outside/,
    ],
    "/up.yaml": [
      spec("file://../../../../../../../../etc/hostname"),
      /it is outside/,
    ],
    "/abs.yaml": [
      spec(`file://${outside}/secret.md`),
      /secret\.md": it is outside/,
    ],
    "/proc.yaml": [spec("file:///proc/self/environ"), /under \/proc/],
    "/data.yaml": [
      spec("x", `${outside}/t.jsonl`),
      /split "eval" .*: it is outside/,
    ],
    "/data_up.yaml": [
      spec("x", "../../t.jsonl"),
      /split "eval" .*: it is outside/,
    ],
    "/base.yaml": [
      spec("x", "https://example.com/t.jsonl", `extends: ${outside}/b.yaml\n`),
      /it is outside/,
    ],
  };
  await using server = serve(
    Object.fromEntries(Object.entries(cases).map(([k, [t]]) => [k, t])),
  );
  try {
    for (const [path, [, pattern]] of Object.entries(cases)) {
      const source = await resolveSpecSource(server.url(path), { cache });
      const result = compileFile(source.file, { fetched: source.fetched });
      assert.equal(result.ok, false, path);
      const ds = result.ok ? [] : result.diagnostics;
      const d = ds.find((d) => d.code === "include_outside_folder");
      assert.ok(d, `${path}: ${ds.map((d) => d.message).join("; ")}`);
      assert.match(d.message, pattern, path);
      for (const s of result.sources.values()) {
        assert.ok(!s.text.includes("SECRET"), path);
      }
    }
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("extends takes a pinned URL (an unpinned one is an error naming its pin) and a local bundle", async () => {
  const base = "description: shared base\n";
  const pin = sha256Hex(enc(base));
  await using server = serve({ "/base.yaml": base });
  const cache = await tempCache();
  const dir = await Deno.makeTempDir({ prefix: "mappa_ext_" });
  try {
    const file = join(dir, "s.yaml");
    await Deno.writeTextFile(
      file,
      spec(
        "x",
        "https://example.com/t.jsonl",
        `extends: ${server.url("/base.yaml")}\n`,
      ),
    );
    await refused(
      resolveSpecSource(file, { cache }),
      new RegExp(`must be pinned .*#sha256=${pin}`),
    );
    await Deno.writeTextFile(
      file,
      spec(
        "x",
        "https://example.com/t.jsonl",
        `extends: ${server.url("/base.yaml")}#sha256=${pin}\n`,
      ),
    );
    const source = await resolveSpecSource(file, { cache });
    const pinned = compileFile(source.file, { fetched: source.fetched });
    assert.ok(pinned.ok, pinned.ok ? "" : pinned.diagnostics[0]!.message);
    assert.equal(pinned.graph.description, "shared base");
    // Without the pre-pass the compiler says how to get the base, never reads the URL as a path.
    const bare = compileFile(source.file);
    assert.ok(
      !bare.ok &&
        /a URL base is fetched by the CLI/.test(bare.diagnostics[0]!.message),
    );
    // A local bundle as a base: unpacked into the cache, read from there.
    await Deno.writeTextFile(
      join(dir, "base.bundle.yaml"),
      encodeBundle(
        "b.yaml",
        new Map([["b.yaml", enc("description: bundled base\n")]]),
      ),
    );
    await Deno.writeTextFile(
      file,
      spec("x", "https://example.com/t.jsonl", "extends: base.bundle.yaml\n"),
    );
    const local = await resolveSpecSource(file, { cache });
    const fromBundle = compileFile(local.file, { fetched: local.fetched });
    assert.ok(
      fromBundle.ok,
      fromBundle.ok ? "" : fromBundle.diagnostics[0]!.message,
    );
    assert.equal(fromBundle.graph.description, "bundled base");
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a local file pinned with #sha256= is checked; a tampered bundle is refused naming both hashes", async () => {
  const cache = await tempCache();
  const dir = await Deno.makeTempDir({ prefix: "mappa_pin_" });
  try {
    const bundle = encodeBundle(
      "s.yaml",
      new Map([["s.yaml", enc(spec("Hi {{ task.q }}"))]]),
    );
    const file = join(dir, "s.bundle.yaml");
    await Deno.writeTextFile(file, bundle);
    const pin = sha256Hex(enc(bundle));
    const ok = await resolveSpecSource(`${file}#sha256=${pin}`, { cache });
    assert.ok(ok.file.startsWith(join(cache, "bundles")));
    assert.ok(compileFile(ok.file).ok);
    await refused(
      resolveSpecSource(`${file}#sha256=${"a".repeat(64)}`, { cache }),
      new RegExp(`its sha256 is ${pin}, the pin says ${"a".repeat(64)}`),
    );
    await Deno.writeTextFile(file, bundle.replace("Hi {{", "Bye {{"));
    await refused(
      resolveSpecSource(file, { cache }),
      /Cannot use the bundle file "s\.yaml": its sha256 is [0-9a-f]{64}, the bundle says [0-9a-f]{64}/,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a URL that never stops sending is cut at the size budget, and nothing is cached", async () => {
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  let sent = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(
        new ReadableStream({
          pull(c) {
            sent += chunk.length;
            c.enqueue(chunk);
          },
        }),
      ),
  );
  const cache = await tempCache();
  try {
    await refused(
      resolveSpecSource(`http://127.0.0.1:${server.addr.port}/x.yaml`, {
        cache,
      }),
      /it is larger than 100663296 bytes, more than a spec or bundle may be/,
    );
    assert.ok(sent < 200 * chunk.length, `the server sent ${sent} bytes`);
    const left = [...Deno.readDirSync(cache)];
    assert.deepEqual(left, []);
  } finally {
    await server.shutdown();
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("a malformed pin and an --allow-read path that does not exist are refused before anything is read", async () => {
  await using server = serve({ "/s.yaml": "name: s\n" });
  await assert.rejects(
    resolveSpecSource(`${server.url("/s.yaml")}#sha256=abc`),
    (e) =>
      e instanceof SpecSourceError &&
      /^Cannot read the pin of ".*#sha256=abc": #sha256= takes the 64 hex digits/
        .test(e.message),
  );
  assert.equal(server.hits.size, 0, "nothing fetched");
  await assert.rejects(
    resolveSpecSource("pipelines/math.yaml", {
      allowRead: ["/no/such/folder"],
    }),
    (e) =>
      e instanceof SpecSourceError &&
      e.message.startsWith(
        'Cannot allow reading "/no/such/folder" (--allow-read): no such file or folder;',
      ),
  );
});
