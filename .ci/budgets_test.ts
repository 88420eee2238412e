/**
 * The budget checker on small planted trees: a clean one passes, and each kind of violation
 * (a long file, a folder cycle, a private import across folders, a doc-lint error) fails with a
 * message naming the files.
 */
import assert from "node:assert/strict";
import { checkBudgets, importsOf, MAX_LINES } from "./budgets.ts";

/** A documented `mod.ts` and two layered folders: every budget holds. */
const CLEAN: Record<string, string> = {
  "mod.ts": '/**\n * A fixture.\n *\n * @module\n */\n\nexport { one } from "./lib/b/one.ts";\n',
  "lib/a/_helper.ts": "export const helper = 1;\n",
  "lib/a/two.ts": 'import { helper } from "./_helper.ts";\nexport const two = helper + 1;\n',
  "lib/b/one.ts": [
    'import { two } from "../a/two.ts";',
    "/** One, from two. */",
    "export const one: number = two - 1;",
    "",
  ].join("\n"),
  // Tests may import upward without making a cycle; doc examples are not imports.
  "lib/a/two_test.ts": 'import { one } from "../b/one.ts";\nDeno.test("t", () => one);\n',
  "lib/a/doc.ts": '/**\n * import { one } from "../b/_nothing.ts";\n */\nexport {};\n',
};

async function plant(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "camtl_budgets_" });
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return root;
}

async function problems(files: Record<string, string>): Promise<string[]> {
  const root = await plant(files);
  try {
    return await checkBudgets(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("a tree within every budget passes", async () => {
  assert.deepEqual(await problems(CLEAN), []);
});

Deno.test("a file over the line budget fails, naming it and its length", async () => {
  const long = "export const x = 1;\n" + "// filler\n".repeat(MAX_LINES);
  const found = await problems({ ...CLEAN, "lib/a/long.ts": long });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /^Cannot exceed 400 lines: lib\/a\/long\.ts has 401;/);
});

Deno.test("an import cycle between folders fails, naming both imports", async () => {
  const found = await problems({
    ...CLEAN,
    "lib/a/three.ts": 'import { one } from "../b/one.ts";\nexport const three = one + 2;\n',
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /^Cannot import in a cycle between folders lib\/a, lib\/b:/);
  assert.match(found[0], /lib\/a → lib\/b \(lib\/a\/three\.ts imports lib\/b\/one\.ts\)/);
  assert.match(found[0], /lib\/b → lib\/a \(lib\/b\/one\.ts imports lib\/a\/two\.ts\)/);
});

Deno.test("a private file imported from another folder fails, naming both files", async () => {
  const found = await problems({
    ...CLEAN,
    "lib/c/user.ts": 'import { helper } from "../a/_helper.ts";\nexport const u = helper;\n',
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(
    found[0],
    /^Cannot import a private file from another folder: lib\/c\/user\.ts imports lib\/a\/_helper\.ts;/,
  );
});

Deno.test("an undocumented export of mod.ts fails deno doc --lint", async () => {
  const found = await problems({
    ...CLEAN,
    "mod.ts": CLEAN["mod.ts"] + "export function bare(): number {\n  return 1;\n}\n",
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /^Cannot pass deno doc --lint mod\.ts \(exit 1\):.*mod\.ts/);
});

Deno.test("a docs/model.md citation of a missing section fails, naming file and section", async () => {
  const model = "# Model\n\n## 4. Attention\n\n### 4.2 Blocks\n\n## 9. Weights\n";
  const cites = "/** As docs/model.md §4.2, §9 and §9.3 say; model.md §4 to §5. */\nexport {};\n";
  const found = await problems({ ...CLEAN, "docs/model.md": model, "lib/a/cite.ts": cites });
  assert.deepEqual(found, [
    "Cannot cite docs/model.md §9.3: lib/a/cite.ts cites it and no heading has that number; " +
    "cite an existing section or add the heading",
    "Cannot cite docs/model.md §5: lib/a/cite.ts cites it and no heading has that number; " +
    "cite an existing section or add the heading",
  ]);
});

Deno.test("imports are read from static, re-export, bare and dynamic forms", () => {
  const text = [
    "import {",
    "  a,",
    '} from "./a.ts";',
    'export * from "../x/b.ts";',
    'import "./c.ts";',
    'const d = await import("./d.ts");',
    ' * import { e } from "./e.ts";',
    '// const f = await import("./f.ts");',
    'import { g } from "npm:g";',
  ].join("\n");
  const found = importsOf({ path: "lib/y/m.ts", text }).map((i) => i.to).sort();
  assert.deepEqual(found, ["lib/x/b.ts", "lib/y/a.ts", "lib/y/c.ts", "lib/y/d.ts"]);
});
