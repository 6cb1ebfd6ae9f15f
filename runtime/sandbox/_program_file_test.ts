// Issue 13, item 6: what bwrap's --json-status-fd says is the only source of sandbox_error.
import assert from "node:assert/strict";
import { parseJailStatus, writeJailFiles } from "./_program_file.ts";

Deno.test("parseJailStatus() reads the exit code only when bwrap wrote one after exec", () => {
  assert.deepEqual(parseJailStatus(""), { childPid: null, exitCode: null });
  assert.deepEqual(
    parseJailStatus(
      '{ "child-pid": 42, "cgroup-namespace": 1, "ipc-namespace": 2 }\n',
    ),
    { childPid: 42, exitCode: null },
  );
  assert.deepEqual(
    parseJailStatus('{ "child-pid": 42 }\n{ "exit-code": 1 }\n'),
    { childPid: 42, exitCode: 1 },
  );
  // A torn last line (bwrap killed while writing) is not an exit code.
  assert.deepEqual(
    parseJailStatus('{ "child-pid": 42 }\n{ "exit-co'),
    { childPid: 42, exitCode: null },
  );
});

Deno.test("writeJailFiles() keeps the program, arguments and status private to the runtime's user", async () => {
  const files = await writeJailFiles("print(1)", "python", ["--a", "b c"]);
  try {
    assert.equal((await Deno.stat(files.dir)).mode! & 0o777, 0o700);
    for (const f of [files.program, files.args, files.status]) {
      assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600, f);
    }
    assert.equal(await Deno.readTextFile(files.program), "print(1)");
    assert.equal(await Deno.readTextFile(files.args), "--a\0b c\0");
    assert.equal(await Deno.readTextFile(files.status), "");
  } finally {
    await files.dispose();
  }
  await assert.rejects(Deno.stat(files.dir), Deno.errors.NotFound);
});
