/**
 * The checks of a run's settings that need the file system: the data folder and each task's
 * folder in it exist, and the output folder is a folder, empty unless overwriting is asked for.
 *
 * @module
 */

import { GLUE_FOLDERS, type GlueTaskName } from "../data/glue_tasks.ts";
import { UsageError } from "../cli/flags.ts";
import type { TrainArgs } from "../cli/train_args.ts";
import { LOCK_FILE } from "./output_lock.ts";

/**
 * Checks what needs the file system: `--data_dir` (and each task's folder in it) exists,
 * and `--output_dir` is a folder and, when training without `--overwrite_output_dir`, empty.
 *
 * @throws {UsageError} naming the path and the fix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "../cli/args.ts";
 * import { UsageError } from "../cli/flags.ts";
 * import { validatePaths } from "./validate_paths.ts";
 * const args = parseArgs(["--model_name_or_path", "CA-MTL-tiny", "--data_dir", "/no/such/dir",
 *   "--output_dir", "/no/such/out"]);
 * await assert.rejects(validatePaths(args), UsageError);
 * ```
 */
export async function validatePaths(args: TrainArgs): Promise<void> {
  if (args.help) return;
  if (args.dataDir !== null) {
    const data = await statOrNull(args.dataDir, "--data_dir");
    const fix = "pass the folder that holds the task folders (CoLA, MNLI, ..., CB, ...) or " +
      "a data root (glue/, superglue/, ...), " +
      "or run with no arguments for the synthetic demo";
    if (data === null) {
      throw new UsageError(`Cannot read --data_dir "${args.dataDir}": it does not exist; ${fix}`);
    }
    if (!data.isDirectory) {
      throw new UsageError(`Cannot read --data_dir "${args.dataDir}": it is not a folder; ${fix}`);
    }
    if (args.doTrain || args.doEval || args.doPredict || args.evaluateDuringTraining) {
      for (const task of args.tasks) {
        const folder = GLUE_FOLDERS[task as GlueTaskName];
        if (folder === undefined) continue;
        // The GLUE download layout, or a data root with GLUE under glue/.
        const path = `${args.dataDir.replace(/[\\/]+$/, "")}/${folder}`;
        if ((await statOrNull(path, "--data_dir"))?.isDirectory) continue;
        const rooted = `${args.dataDir.replace(/[\\/]+$/, "")}/glue/${folder}`;
        if ((await statOrNull(rooted, "--data_dir"))?.isDirectory) continue;
        throw new UsageError(
          `Cannot read task "${task}" from --data_dir "${args.dataDir}": folder "${path}" is ` +
            `missing; add it (GLUE download layout) or drop "${task}" from --tasks`,
        );
      }
    }
  }
  const out = await statOrNull(args.outputDir, "--output_dir");
  if (out !== null && !out.isDirectory) {
    throw new UsageError(
      `Cannot write to --output_dir "${args.outputDir}": it is a file; choose a folder`,
    );
  }
  if (out !== null && args.doTrain && !args.overwriteOutputDir && await hasEntries(args)) {
    throw new UsageError(
      `Cannot train into --output_dir "${args.outputDir}": it is not empty; ` +
        `add --overwrite_output_dir or choose another folder`,
    );
  }
}

async function statOrNull(path: string, flag: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`Cannot read ${flag} "${path}": ${(e as Error).message}`);
  }
}

async function hasEntries(args: TrainArgs): Promise<boolean> {
  for await (const e of Deno.readDir(args.outputDir)) if (e.name !== LOCK_FILE) return true;
  return false;
}
