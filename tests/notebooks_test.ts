/**
 * Executes every notebook in `notebooks/` top to bottom in the Deno Jupyter kernel (through
 * `notebook_runner.py` and Debian's `python3-nbclient`) and holds the values the notebook prints
 * as `CHECK name=value` lines to the ranges below. Fails on any cell error, showing the cell.
 *
 * Without Jupyter or the kernel the run is skipped with a message, except under `CI=true` or
 * `CAMTL_REQUIRE_GPU=1`, where it fails. Notebooks must be committed without outputs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DATA_DIR, hasData } from "./_util/data.ts";
import { testGpu } from "./_util/gpu.ts";

/** What the test expects of one notebook. */
interface NotebookSpec {
  /** Each check the notebook prints, with its inclusive range. */
  checks: Record<string, [min: number, max: number]>;
  /** Sub-folder of `$CAMTL_DATA` the notebook reads; it is skipped when that is missing. */
  data?: string;
}

/** Every notebook, by file name, and its checks. A notebook not listed here fails the test. */
const NOTEBOOKS: Record<string, NotebookSpec> = {
  "01_quick_start.ipynb": {
    checks: { sentiment_acc: [0.75, 1], rating_pearson: [0.4, 1] },
  },
  "02_fine_tune.ipynb": {
    data: "glue/SST-2",
    checks: { dev_accuracy: [0.6, 1] },
  },
  "03_kernels.ipynb": {
    checks: { matmul_max_abs_error: [0, 1e-4], layer_norm_max_abs_error: [0, 2e-5] },
  },
};

const DIR = fileURLToPath(new URL("../notebooks/", import.meta.url));
const RUNNER = fileURLToPath(new URL("./notebook_runner.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
/** A hang guard per cell, not a performance bound. */
const CELL_TIMEOUT_S = 900;
const REQUIRED = Deno.env.get("CI") === "true" || Deno.env.get("CAMTL_REQUIRE_GPU") === "1";

const CHECK_LINE = /^CHECK ([A-Za-z0-9_.-]+)=(\S+)$/gm;

interface RunReport {
  kernel: { name: string; implementation: string; version: string };
  cells: { index: number; stdout: string }[];
  error: null | {
    index: number;
    source: string;
    ename: string;
    evalue: string;
    traceback: string[];
  };
}

function notebookFiles(): string[] {
  return [...Deno.readDirSync(DIR)].filter((e) => e.isFile && e.name.endsWith(".ipynb"))
    .map((e) => e.name).sort();
}

async function runner(args: string[]): Promise<string> {
  const out = await new Deno.Command(PYTHON, {
    args: [RUNNER, ...args],
    env: { CAMTL_DATA: resolve(DATA_DIR) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`Cannot run ${RUNNER} ${args.join(" ")}:\n${stderr}`);
  // The report is the last line; anything a kernel writes to its own stdout comes before it.
  return new TextDecoder().decode(out.stdout).trimEnd().split("\n").at(-1)!;
}

/** The kernel's report, or why the notebooks cannot run here. */
async function probe(): Promise<{ missing: string | null; kernel: RunReport["kernel"] | null }> {
  try {
    return JSON.parse(await runner(["--probe"]));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { missing: `${PYTHON}: apt-get install python3`, kernel: null };
    }
    throw e;
  }
}

/** The `CHECK name=value` lines of every cell, by name; a name printed twice is an error. */
function parseChecks(stdout: string): Map<string, number> {
  const checks = new Map<string, number>();
  for (const [, name, value] of stdout.matchAll(CHECK_LINE)) {
    if (checks.has(name)) throw new Error(`check "${name}" was printed twice`);
    checks.set(name, Number(value));
  }
  return checks;
}

/** One line per check that is missing, unexpected, not a number or out of its range. */
function checkProblems(
  checks: ReadonlyMap<string, number>,
  expected: NotebookSpec["checks"],
): string[] {
  const problems: string[] = [];
  for (const [name, [min, max]] of Object.entries(expected)) {
    const v = checks.get(name);
    if (v === undefined) problems.push(`check "${name}" was not printed`);
    else if (!(v >= min && v <= max)) {
      problems.push(`check "${name}" = ${v}, expected within [${min}, ${max}]`);
    }
  }
  for (const name of checks.keys()) {
    if (!(name in expected)) problems.push(`check "${name}" has no expected range in this test`);
  }
  return problems;
}

function describeError(file: string, error: NonNullable<RunReport["error"]>): string {
  return `Cannot run notebooks/${file}: cell ${error.index} raised ${error.ename}: ${error.evalue}\n` +
    `--- cell ${error.index} ---\n${error.source}\n--- traceback ---\n${
      error.traceback.join("\n")
    }`;
}

Deno.test("notebooks are committed as nbformat 4 for the Deno kernel, without outputs", () => {
  const files = notebookFiles();
  assert.deepEqual(files, Object.keys(NOTEBOOKS).sort(), "notebooks/ and NOTEBOOKS must agree");
  for (const file of files) {
    const nb = JSON.parse(Deno.readTextFileSync(DIR + file));
    assert.equal(nb.nbformat, 4, `${file}: nbformat`);
    assert.equal(nb.metadata?.kernelspec?.name, "deno", `${file}: metadata.kernelspec.name`);
    assert.ok(Array.isArray(nb.cells) && nb.cells.length > 0, `${file}: cells`);
    nb.cells.forEach((cell: Record<string, unknown>, i: number) => {
      if (cell.cell_type !== "code") return;
      assert.deepEqual(cell.outputs, [], `${file}: cell ${i} has outputs; clear them`);
      assert.equal(cell.execution_count, null, `${file}: cell ${i} has an execution count`);
      const metadata = cell.metadata as Record<string, unknown> | undefined;
      assert.ok(!metadata?.execution, `${file}: cell ${i} has run timestamps (metadata.execution)`);
    });
  }
});

Deno.test("CHECK lines are parsed by name and held to their ranges", () => {
  const checks = parseChecks("x\nCHECK err=3e-7\nCHECK acc=0.5\nnot CHECK a=1\n");
  assert.deepEqual([...checks], [["err", 3e-7], ["acc", 0.5]]);
  assert.deepEqual(checkProblems(checks, { err: [0, 1e-6], acc: [0.5, 1] }), []);
  assert.deepEqual(checkProblems(checks, { err: [0, 1e-7], loss: [0, 1] }), [
    'check "err" = 3e-7, expected within [0, 1e-7]',
    'check "loss" was not printed',
    'check "acc" has no expected range in this test',
  ]);
  assert.deepEqual(checkProblems(parseChecks("CHECK err=NaN"), { err: [0, 1] }), [
    'check "err" = NaN, expected within [0, 1]',
  ]);
  assert.throws(() => parseChecks("CHECK a=1\nCHECK a=2"), /printed twice/);
});

Deno.test({
  name: "the runner keeps a cell's output that reaches iopub after the cell is idle",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { missing } = await probe();
    if (missing) {
      if (REQUIRED) throw new Error(`Cannot run the notebooks: ${missing}`);
      console.warn(`SKIP: notebook runner not tested: ${missing}`);
      return;
    }
    // The Deno kernel forwards console output on its own task: in about a third of cells like
    // these, the last line reaches iopub after the idle status, which nbclient alone drops.
    const cells = Array.from({ length: 24 }, (_, i) => ({
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source: `let s${i} = 0;\nfor (let j = 0; j < 1e6; j++) s${i} += Math.sqrt(j);\n` +
        `console.log("x".repeat(1000));\nconsole.log(\`CHECK cell_${i}=${i}\`);`,
    }));
    const dir = await Deno.makeTempDir({ prefix: "camtl-notebook-runner-" });
    try {
      const file = `${dir}/late_output.ipynb`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          nbformat: 4,
          nbformat_minor: 5,
          metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
          cells,
        }),
      );
      const report: RunReport = JSON.parse(await runner([file, "--timeout", "120"]));
      assert.equal(report.error, null);
      assert.deepEqual(
        report.cells.map((c) => [...parseChecks(c.stdout)]),
        cells.map((_, i) => [[`cell_${i}`, i]]),
        "each cell's CHECK line, in its own cell",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "notebooks run top to bottom in the Deno Jupyter kernel and their checks hold",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { missing, kernel } = await probe();
    if (missing || !kernel) {
      if (REQUIRED) throw new Error(`Cannot run the notebooks: ${missing}`);
      console.warn(`SKIP: notebooks not run: ${missing}`);
      return;
    }
    const gpu = await testGpu();
    if (!gpu) {
      console.warn("SKIP: notebooks not run: they need a GPU");
      return;
    }
    const where = `kernel "${kernel.name}" (${kernel.implementation} ${kernel.version}), ` +
      `adapter "${gpu.adapter.description}"`;
    for (const file of notebookFiles()) {
      const spec = NOTEBOOKS[file] ?? { checks: {} }; // unlisted: runs, and fails the test above
      await t.step(`${file} on ${where}`, async () => {
        if (spec.data !== undefined && !hasData(spec.data)) return;
        const report: RunReport = JSON.parse(
          await runner([DIR + file, "--timeout", String(CELL_TIMEOUT_S)]),
        );
        if (report.error) throw new Error(describeError(file, report.error));
        const checks = parseChecks(report.cells.map((c) => c.stdout).join(""));
        for (const [name, value] of checks) console.log(`${file}: ${name} = ${value}`);
        const problems = checkProblems(checks, spec.checks);
        const tail = report.cells.at(-1)?.stdout.slice(-600) ?? "";
        assert.deepEqual(
          problems,
          [],
          `notebooks/${file}:\n${problems.join("\n")}\n--- last cell's stdout ---\n${tail}`,
        );
      });
    }
  },
});
