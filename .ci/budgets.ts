/**
 * The repository's budgets, checked by `deno task budgets` (part of `deno task ok` and of
 * `.ci/run`). It fails, naming the files, on:
 *
 * - a `.ts` file over {@linkcode MAX_LINES} lines (source, test or bench alike);
 * - an import cycle between folders: the folder graph of the non-test modules (a folder imports
 *   another when one of its files does) must have no cycle. Tests (`*_test.ts`) are left out:
 *   a test may use anything above the code it sits beside;
 * - a `_`-private file imported from another folder: `_name.ts` is its folder's own business;
 * - an error from `deno doc --lint mod.ts`;
 * - a citation `docs/model.md §N` (or `model.md §N.M`, and the `§` that follow it: `, §6`,
 *   `to §8`) that names no heading of `docs/model.md`.
 *
 * Usage: `deno run -R --allow-run .ci/budgets.ts [root]` (root defaults to the repository).
 *
 * @module
 */

/** The most lines a `.ts` file may have. */
export const MAX_LINES = 400;

/** Folders never read: dependencies, run outputs, generated fixtures, VCS data. */
const SKIPPED = new Set([".git", "node_modules", "runs", ".out", "tmp", "fixtures"]);

/** One source file (`.ts`, or `.md` for citations): its path from the root and its text. */
interface Source {
  path: string;
  text: string;
}

/** One relative import: who imports what, both as paths from the root. */
export interface Import {
  from: string;
  to: string;
}

async function readSources(root: string, dir = "", names = /\.ts$/): Promise<Source[]> {
  const out: Source[] = [];
  const entries = [];
  for await (const e of Deno.readDir(dir ? `${root}/${dir}` : root)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !SKIPPED.has(e.name)) out.push(...await readSources(root, path, names));
    else if (e.isFile && names.test(e.name)) {
      out.push({ path, text: await Deno.readTextFile(`${root}/${path}`) });
    }
  }
  return out;
}

/** The lines of `text`, not counting the empty string after a final newline. */
function lineCount(text: string): number {
  const lines = text.split("\n").length;
  return text.endsWith("\n") ? lines - 1 : lines;
}

// Static imports and re-exports start a line (so doc-comment examples, which start with " *",
// are not read); dynamic imports are read on lines that are not comments.
const STATIC = /^(?:import|export)\b[^;=()"'`]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^import\s*["']([^"']+)["']/gm;
const DYNAMIC = /^(?!\s*(?:\*|\/\/)).*?\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** The folder of a path from the root (`"."` for files at the root). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

/** `to`, a relative specifier in the file `from`, as a path from the root; null if outside. */
function resolve(from: string, to: string): string | null {
  const parts = folderOf(from) === "." ? [] : folderOf(from).split("/");
  for (const p of to.split("/")) {
    if (p === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

/** The relative imports of `source` (bare specifiers such as `npm:` are not files here). */
export function importsOf(source: Source): Import[] {
  const out: Import[] = [];
  for (const re of [STATIC, BARE, DYNAMIC]) {
    for (const m of source.text.matchAll(re)) {
      if (!m[1].startsWith(".")) continue;
      const to = resolve(source.path, m[1]);
      if (to !== null) out.push({ from: source.path, to });
    }
  }
  return out;
}

const isTest = (path: string) => path.endsWith("_test.ts");
const fileName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** Files over {@linkcode MAX_LINES} lines, one message each. */
export function longFiles(sources: readonly Source[]): string[] {
  return sources
    .map((s) => ({ path: s.path, lines: lineCount(s.text) }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) =>
      `Cannot exceed ${MAX_LINES} lines: ${f.path} has ${f.lines}; ` +
      `split it by what its parts do`
    );
}

/** Imports of a `_`-private file from another folder, one message each. */
export function privateImports(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => fileName(i.to).startsWith("_") && folderOf(i.to) !== folderOf(i.from))
    .map((i) =>
      `Cannot import a private file from another folder: ${i.from} imports ${i.to}; ` +
      `make it public (a name without "_") or keep its users in ${folderOf(i.to)}/`
    );
}

/**
 * Cycles in the folder graph of non-test imports, one message per strongly connected set of
 * folders, naming one import for each edge inside it.
 */
export function folderCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const a = folderOf(i.from), b = folderOf(i.to);
    if (a === b || isTest(i.from)) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const out = edges.get(a)!;
    if (!out.has(b)) out.set(b, i);
  }
  return components(edges).map((set) => {
    const inside = new Set(set);
    const examples = set.flatMap((a) =>
      [...edges.get(a)?.entries() ?? []]
        .filter(([b]) => inside.has(b))
        .map(([b, i]) => `${a} → ${b} (${i.from} imports ${i.to})`)
    );
    return `Cannot import in a cycle between folders ${set.join(", ")}: ${examples.join("; ")}; ` +
      `move what the lower folder needs into it`;
  });
}

/** Tarjan's strongly connected components with more than one folder, each sorted. */
function components(edges: Map<string, Map<string, Import>>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), out: string[][] = [];
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      set.push(w);
    } while (w !== v);
    if (set.length > 1) out.push(set.sort());
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return out;
}

// A citation: `model.md §4.2`, then any `, §4.4`, ` and §9.1` or ` to §8` that follow it.
const CITATION = /model\.md`? (§\d+(?:\.\d+)?(?:(?:, | and | to )§\d+(?:\.\d+)?)*)/g;

/**
 * Citations of `docs/model.md` sections that it does not have, one message each. The sections
 * are its numbered `##` and `###` headings (`## 4. Conditional attention`, `### 4.2 …`).
 */
export function danglingCitations(model: string | null, sources: readonly Source[]): string[] {
  const cited = sources.flatMap((s) =>
    [...s.text.matchAll(CITATION)].flatMap((m) =>
      [...m[1].matchAll(/§(\d+(?:\.\d+)?)/g)].map((n) => ({ path: s.path, section: n[1] }))
    )
  );
  if (cited.length === 0) return [];
  if (model === null) {
    return [`Cannot cite docs/model.md: ${cited[0].path} cites it and it is missing; add it`];
  }
  const headings = new Set(
    [...model.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]),
  );
  return cited.filter((c) => !headings.has(c.section)).map((c) =>
    `Cannot cite docs/model.md §${c.section}: ${c.path} cites it and no heading has that ` +
    `number; cite an existing section or add the heading`
  );
}

/** `deno doc --lint mod.ts` in `root`: its errors as one message, or none. */
export async function docLint(root: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code === 0) return [];
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  const errors = text.split("\n").filter((l) => /error\[|-->/.test(l)).map((l) => l.trim());
  return [
    `Cannot pass deno doc --lint mod.ts (exit ${code}): ${
      (errors.length ? errors : [text.trim()]).join(" ")
    }; document the named exports`,
  ];
}

/** Every budget broken under `root`, one message each; empty when all hold. */
export async function checkBudgets(root: string): Promise<string[]> {
  const texts = await readSources(root, "", /\.(ts|md)$/);
  const sources = texts.filter((s) => s.path.endsWith(".ts"));
  const imports = sources.flatMap(importsOf);
  const model = await Deno.readTextFile(`${root}/docs/model.md`).catch(() => null);
  return [
    ...longFiles(sources),
    ...folderCycles(imports),
    ...privateImports(imports),
    // `.ts` and `.md` files cite it (docs/model.md too: its own cross-references count).
    ...danglingCitations(model, texts),
    ...await docLint(root),
  ];
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const problems = await checkBudgets(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) Deno.exit(1);
  console.log(
    "budgets hold: file lengths, folder cycles, private imports, model.md citations, doc lint",
  );
}
