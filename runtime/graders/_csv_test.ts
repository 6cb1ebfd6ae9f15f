import assert from "node:assert/strict";
import { parseCsv, toTable } from "./_csv.ts";

Deno.test("parseCsv() reads RFC 4180 CSV as agents write it", async (t) => {
  await t.step(
    'BOM, mixed CRLF/LF/CR rows, blank lines, a quoted line break and "" escape',
    () => {
      assert.deepEqual(
        parseCsv('\ufeffid,v\r\n1,"a\nb"\n\n2,"say ""hi"""\r3,x\n'),
        [["id", "v"], ["1", "a\nb"], ["2", 'say "hi"'], ["3", "x"]],
      );
    },
  );
  await t.step("a stray quote inside an unquoted field is text", () => {
    assert.deepEqual(parseCsv('id,v\n1,5"\n'), [["id", "v"], ["1", '5"']]);
  });
  await t.step("an unclosed quote is the reason, not a throw", () => {
    assert.equal(parseCsv('id,v\n1,"oops\n'), "a quoted field is not closed");
  });
  await t.step(
    "empty text is no rows",
    () => assert.deepEqual(parseCsv(""), []),
  );
});

Deno.test("toTable() names a ragged row and trims header names", () => {
  assert.equal(
    toTable("id,v\n1,2,3\n", "submission.csv"),
    "submission.csv data row 1 has 3 fields, expected 2",
  );
  assert.deepEqual(toTable(" id , v\n1,2\n", "s.csv"), {
    header: ["id", "v"],
    rows: [["1", "2"]],
  });
  assert.equal(toTable("", "s.csv"), "s.csv is empty");
});
