import assert from "node:assert/strict";
import { parseArgs } from "../cli/args.ts";
import { UsageError } from "../cli/flags.ts";
import { validatePaths } from "./validate_paths.ts";

/** Asserts a one-line UsageError whose message contains every `parts`. */
async function assertUsageAsync(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.ok(!e.message.includes("\n"));
    for (const s of parts) assert.ok(e.message.includes(s), `"${s}" not in: ${e.message}`);
    return true;
  });
}

Deno.test("validatePaths() rejects a missing data_dir and a non-empty output_dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/glue`, out = `${dir}/out`;
    const args = (...more: string[]) =>
      parseArgs([
        "--model_name_or_path",
        "CA-MTL-tiny",
        "--data_dir",
        data,
        "--output_dir",
        out,
        ...more,
      ]);
    await assertUsageAsync(validatePaths(args()), "--data_dir", data, "does not exist");
    await Deno.mkdir(`${data}/CoLA`, { recursive: true });
    await validatePaths(args("--tasks", "cola", "--do_train"));
    await assertUsageAsync(
      validatePaths(args("--tasks", "cola", "rte", "--do_train")),
      `${data}/RTE`,
      `"rte"`,
    );
    await Deno.mkdir(out);
    await validatePaths(args("--tasks", "cola", "--do_train"));
    await Deno.writeTextFile(`${out}/old.txt`, "x");
    await assertUsageAsync(
      validatePaths(args("--tasks", "cola", "--do_train")),
      out,
      "not empty",
      "--overwrite_output_dir",
    );
    await validatePaths(args("--tasks", "cola", "--do_train", "--overwrite_output_dir"));
    await validatePaths(args("--tasks", "cola", "--do_eval"));
    await validatePaths(parseArgs([]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
