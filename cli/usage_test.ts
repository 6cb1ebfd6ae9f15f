import assert from "node:assert/strict";
import { COMMANDS } from "./mod.ts";
import { unknownCommand, usage } from "./usage.ts";

Deno.test("every option of every command is in its synopsis, and every synopsis option is an option", () => {
  const text = usage(COMMANDS, "mappa");
  for (const c of COMMANDS) {
    const synopsis = c.synopsis.join(" ");
    for (const [name, option] of Object.entries(c.options)) {
      // --allow-read is described once, in the footer.
      if (name === "allow-read") {
        assert.match(text, /--allow-read PATH \(repeatable\)/);
        continue;
      }
      const shown = synopsis.includes(`--${name}`) ||
        (option.short !== undefined && synopsis.includes(`-${option.short} `));
      assert.ok(shown, `${c.name}: option --${name} is not in its synopsis`);
    }
    for (const [, name] of synopsis.matchAll(/--([a-z][a-z-]*)/g)) {
      assert.ok(
        name! in c.options,
        `${c.name}: synopsis shows --${name}, which it does not accept`,
      );
    }
  }
});

Deno.test("usage() lists every command, descriptions from column 50", () => {
  for (const cmd of ["deno task", "mappa"]) {
    const lines = usage(COMMANDS, cmd).split("\n");
    for (const c of COMMANDS) {
      const at = lines.findIndex((l) => l.startsWith(`  ${cmd} ${c.name} `));
      assert.ok(at >= 0, `${c.name} is missing from the usage text`);
      const block = lines.slice(at, at + c.synopsis.length + 1).join("\n");
      const first = c.description[0]!;
      assert.ok(
        block.split("\n").some((l) => l.indexOf(first) === 50),
        `${cmd} ${c.name}: "${first}" does not start at column 50:\n${block}`,
      );
    }
  }
  assert.match(
    usage(COMMANDS, "deno task"),
    /^ {2}deno task check <spec>\.\.\. \[--format text\|json\] {2}validate specs/m,
  );
});

Deno.test("unknownCommand() names every command of the table", () => {
  const message = unknownCommand("frobnicate", COMMANDS).message;
  assert.equal(
    message,
    'Cannot run unknown command "frobnicate": expected check, graph, schema, run, train, rescore, compare, report or bundle',
  );
  for (const c of COMMANDS) assert.ok(message.includes(c.name));
});
