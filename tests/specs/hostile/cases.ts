/**
 * Hostile specs from issue 14: each case is a spec (with any files it names) that once crashed, hung or
 * was wrongly accepted by the compiler. Small ones are also checked in beside this file as `<name>.yaml`;
 * the large ones are generated here so the repository stays small. `writeCase` puts one in a folder for
 * `deno task check`.
 *
 * @module
 */

/** One hostile spec: the entry file's name and every file it needs, by path relative to the case folder. */
export interface HostileCase {
  readonly name: string;
  readonly entry: string;
  readonly files: Readonly<Record<string, string | Uint8Array>>;
  /** The diagnostic code the check must report first. */
  readonly code: string;
}

/** A valid spec's lines around one role list, so each case breaks exactly one thing. */
export function spec(
  roles: string[],
  extra: string[] = [],
  dataset =
    'dataset: { splits: { eval: "https://x/y" }, fields: { inputs: { q: q } } }',
): string {
  return [
    "version: 1",
    "name: x",
    "models: { m: { model: a } }",
    "roles:",
    ...roles,
    dataset,
    ...extra,
  ].join("\n") + "\n";
}

/** One role in flow style. */
export function role(id: string, extra = "", user = "hi"): string {
  return `  - { id: ${id}, description: d, model: m, prompts: { user: ${
    JSON.stringify(user)
  } }${extra} }`;
}

function one(name: string, code: string, text: string): HostileCase {
  return {
    name,
    code,
    entry: `${name}.yaml`,
    files: { [`${name}.yaml`]: text },
  };
}

/** The cases too large to check in, generated the same way every time. */
export function generatedCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  // 2,400 nested block sequences on one line: yaml's parser recursed once per level and overflowed the stack.
  cases.push(
    one("deep_block_nesting", "over_budget", `x:\n${"- ".repeat(2400)}1\n`),
  );
  // A byte that is not UTF-8 (0xFF) in a description, kept out of the repository, where formatters fix it.
  {
    const text = spec([role("a")]).replace(
      "description: d",
      "description: d\u0000",
    );
    const bytes = new TextEncoder().encode(text);
    bytes[bytes.indexOf(0)] = 0xff;
    cases.push({
      name: "not_utf8",
      code: "file_not_text",
      entry: "not_utf8.yaml",
      files: { "not_utf8.yaml": bytes },
    });
  }
  cases.push(
    one(
      "deep_flow_nesting",
      "over_budget",
      `x: ${"[".repeat(2400)}${"]".repeat(2400)}\n`,
    ),
  );
  // 2,400 nested block mappings, indented one space deeper each: 2.9 MB of spaces.
  {
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) lines.push(`${" ".repeat(i)}k:`);
    cases.push(
      one("deep_map_nesting", "over_budget", lines.join("\n") + " 1\n"),
    );
  }
  // A 64 KiB scalar aliased 90,000 times where any value is allowed: 5.9 GB once expanded, past V8's
  // longest string when the spec is hashed.
  {
    const big = "x".repeat(64 << 10);
    const refs = Array.from({ length: 200 }, () => "*a").join(", ");
    const rows = Array.from(
      { length: 450 },
      (_, i) => `          r${i}: [${refs}]`,
    );
    const text = spec([role("a")]).replace(
      "models: { m: { model: a } }\n",
      [
        "models:",
        "  m:",
        "    model: a",
        "    sampling:",
        "      extra_body:",
        `        big: &a "${big}"`,
        "        refs:",
        ...rows,
        "",
      ].join("\n"),
    );
    cases.push(one("aliased_big_scalar", "over_budget", text));
  }
  // 150 roles each including the same 3.9 MB prompt: each file is in budget, the expanded spec is not.
  {
    const prompt = "word ".repeat(200_000);
    const roles = Array.from(
      { length: 150 },
      (_, i) => role(`r${i}`, "", "").replace('user: ""', "user: file://p.txt"),
    );
    cases.push({
      name: "included_big_prompt",
      code: "over_budget",
      entry: "included_big_prompt.yaml",
      files: { "included_big_prompt.yaml": spec(roles), "p.txt": prompt },
    });
  }
  // An alias bomb: each level lists the previous one ten times (10^9 nodes at the ninth level).
  {
    const levels = [
      '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ];
    for (let i = 1; i < 9; i++) {
      levels.push(
        `  l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(", ")}]`,
      );
    }
    cases.push(
      one("alias_bomb", "over_budget", spec([role("a")], ["bomb:", ...levels])),
    );
  }
  // 200,000 list items: 1.4 MB, over the size of a spec file.
  cases.push(
    one(
      "huge_list",
      "file_too_large",
      spec([role("a")], [
        "items:",
        ..."- 1\n".repeat(200_000).trimEnd().split("\n").map((l) => `  ${l}`),
      ]),
    ),
  );
  // `${` 100,000 times with no closing brace: the interpolation regex retried from each one.
  cases.push(
    one(
      "interpolation_scan",
      "invalid_interpolation",
      spec([role("a", "", "${".repeat(100_000))]),
    ),
  );
  // `{{ {%` 60,000 times with no closing braces: the Liquid pre-check's lazy regex scanned to the end
  // from each one. Now over the tag budget, refused before any scan.
  cases.push(
    one(
      "liquid_precheck",
      "over_budget",
      spec([role("a", "", "{{ {% ".repeat(60_000))]),
    ),
  );
  // `{{` just under the tag budget, then 900 KB with no closing braces: scanned once.
  cases.push(
    one(
      "liquid_unclosed",
      "template_syntax",
      spec([role("a", "", "{{ ".repeat(999) + "x ".repeat(450_000))]),
    ),
  );

  // 20,000 variables in one template.
  cases.push(
    one(
      "liquid_variables",
      "over_budget",
      spec([
        role(
          "a",
          "",
          Array.from({ length: 20_000 }, (_, i) => `{{ task.v${i} }}`).join(
            " ",
          ),
        ),
      ]),
    ),
  );
  // 20 prompts of 1,000 tags each: each is in budget, together they are not.
  cases.push(
    one(
      "liquid_many_templates",
      "over_budget",
      spec(
        Array.from(
          { length: 20 },
          (_, i) => role(`r${i}`, "", "{{ task.q }} ".repeat(1000) + i),
        ),
      ),
    ),
  );
  // Did-you-mean between two 30,000-character ids: 9e8 steps of edit distance.
  {
    const id = "a".repeat(30_000);
    cases.push(
      one(
        "long_ids",
        "too_big",
        spec([role(id), role("b", `, after: [${id.slice(1)}b]`)]),
      ),
    );
  }
  // 1,000 roles with 125-character ids, each after a misspelled one: a million did-you-mean comparisons.
  {
    const id = (i: number) =>
      "r" + "a".repeat(120) + String(i).padStart(4, "0");
    const roles = Array.from(
      { length: 1000 },
      (_, i) => role(id(i), `, after: [${id(i).replace("r", "q")}]`),
    );
    cases.push(one("unknown_long_ids", "unknown_role", spec(roles)));
  }
  // {a,b} twenty times: a million brace variants per glob.
  {
    const glob = "{a,b}".repeat(20);
    cases.push(
      one(
        "glob_braces",
        "over_budget",
        spec([
          role("a", `, produces: ["${glob}"]`),
          role("b", `, after: [a], consumes: ["${glob}x"]`),
        ]),
      ),
    );
  }
  // A glob that makes picomatch's regex backtrack against a long literal path.
  {
    const glob = "*a".repeat(8) + "*c";
    cases.push(
      one(
        "glob_backtrack",
        "unproduced_input",
        spec([
          role("a", `, produces: ["${"a".repeat(250)}"]`),
          role("b", `, after: [a], consumes: ["${glob}"]`),
        ]),
      ),
    );
  }
  // 1,000 roles whose contracts compare globs with long literal paths: every consumed pattern is compared
  // with every produced one. Over the glob budget, then just under it.
  for (
    const [name, globs, code] of [
      ["contract_globs", 40, "over_budget"],
      ["contract_literals", 16, "unproduced_input"],
    ] as const
  ) {
    const long = "x".repeat(200);
    const roles = Array.from({ length: 1000 }, (_, i) =>
      role(
        `r${i}`,
        i < globs
          ? `, produces: ["o${i}/*a*b*.csv"], consumes: ["*/*b*a*.csv"]${
            i ? `, after: [r${i - 1}]` : ""
          }`
          : `, produces: ["o${i}/ab${long}.csv"], consumes: ["o${
            i - 1
          }/ab${long}.csv"], after: [r${i - 1}]`,
      ));
    cases.push(one(name, code, spec(roles)));
  }
  // 8,000 roles in a chain: ancestor sets were copied from parent to child, quadratic in the chain.
  const chains = [
    ["role_chain", 8000, "over_budget"],
    ["role_count", 1001, "too_big"],
  ] as const;
  for (const [name, n, code] of chains) {
    const roles = [role("r0")];
    for (let i = 1; i < n; i++) {
      roles.push(role(`r${i}`, `, after: [r${i - 1}]`));
    }
    cases.push(one(name, code, spec(roles)));
  }
  return cases;
}

/** Writes a case's files into `dir` and returns the entry's path. */
export function writeCase(dir: string, c: HostileCase): string {
  for (const [path, content] of Object.entries(c.files)) {
    const full = `${dir}/${path}`;
    Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") Deno.writeTextFileSync(full, content);
    else Deno.writeFileSync(full, content);
  }
  return `${dir}/${c.entry}`;
}
