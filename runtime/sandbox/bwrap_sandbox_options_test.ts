import assert from "node:assert/strict";
import { resolveBwrapSandboxOptions } from "./bwrap_sandbox_options.ts";
import { pythonDataPaths } from "./_data_paths.ts";

Deno.test("resolveBwrapSandboxOptions() fills every @default the JSDoc states", async () => {
  const source = await Deno.readTextFile(
    new URL("./bwrap_sandbox_options.ts", import.meta.url),
  );
  const resolved: Record<string, unknown> = resolveBwrapSandboxOptions();
  const documented = [
    ...source.matchAll(/@default (.+)\n\s*\*\/\n\s*(\w+)\?:/g),
  ];
  assert.equal(documented.length, Object.keys(resolved).length);
  for (const [, doc, key] of documented) {
    const value = resolved[key!];
    const onPath = /^"\/usr\/bin\/(\w+)", else "\w+" on PATH$/.exec(doc!);
    if (onPath) {
      assert.match(String(value), new RegExp(`/${onPath[1]}$`), key);
    } else if (doc === "Deno.execPath()") {
      assert.equal(value, Deno.execPath());
    } else if (doc === "pythonDataPaths()") {
      assert.deepEqual(value, pythonDataPaths());
    } else {
      assert.equal(value, JSON.parse(doc!.replaceAll("_", "")), key);
    }
  }
});

Deno.test("resolveBwrapSandboxOptions() keeps what the caller gave", () => {
  const r = resolveBwrapSandboxOptions({ uidBase: 300_000, tmpMb: 8 });
  assert.equal(r.uidBase, 300_000);
  assert.equal(r.tmpMb, 8);
});
