import assert from "node:assert/strict";
import { oneOf, orList } from "./_args.ts";
import { UsageError } from "./exit_codes.ts";

Deno.test("orList() lists words as a reader does", () => {
  assert.equal(orList([]), "");
  assert.equal(orList(["json"]), "json");
  assert.equal(orList(["text", "json"]), "text or json");
  assert.equal(orList(["mermaid", "dot", "json"]), "mermaid, dot or json");
});

Deno.test("oneOf() returns a listed value and refuses another, naming the choices", () => {
  assert.equal(oneOf("format", "dot", ["mermaid", "dot", "json"]), "dot");
  assert.throws(
    () => oneOf("format", "xml", ["text", "json"]),
    (e) =>
      e instanceof UsageError &&
      e.message === 'Cannot use --format "xml": expected text or json',
  );
  assert.throws(
    () => oneOf("format", "svg", ["mermaid", "dot", "json"]),
    /^UsageError: Cannot use --format "svg": expected mermaid, dot or json$/,
  );
});
