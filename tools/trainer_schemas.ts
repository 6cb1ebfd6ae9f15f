// Writes trainer/schemas/<name>.json from training/protocol.ts (`deno task trainer:schemas`); with
// --check, exits 1 when a checked-in file is stale. The Python tests validate fixtures against them.
// deno-lint-ignore-file no-console -- a command-line tool
import { protocolJsonSchemas } from "../training/protocol.ts";

const DIR = new URL("../trainer/schemas/", import.meta.url);
const check = Deno.args.includes("--check");
await Deno.mkdir(DIR, { recursive: true });
let stale = 0;
for (const [name, schema] of Object.entries(protocolJsonSchemas())) {
  const file = new URL(`${name}.json`, DIR);
  const text = JSON.stringify(schema, null, 2) + "\n";
  if (check) {
    const have = await Deno.readTextFile(file).catch(() => "");
    if (have !== text) {
      console.error(
        `trainer/schemas/${name}.json is stale: run deno task trainer:schemas`,
      );
      stale++;
    }
  } else {
    await Deno.writeTextFile(file, text);
    console.log(`wrote trainer/schemas/${name}.json`);
  }
}
if (stale > 0) Deno.exit(1);
