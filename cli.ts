/**
 * The `mappa` command (`deno task <command>`, `deno install … cli.ts`, `deno compile … cli.ts`):
 * the commands live in cli/.
 *
 * @module
 */
import { main } from "./cli/mod.ts";

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
