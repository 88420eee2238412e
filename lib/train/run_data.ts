/**
 * The data a run trains and evaluates on: the tokenizer and the train, dev and test feature
 * sets of each task, from GLUE folders (with the feature cache) or from the embedded synthetic
 * demo suite.
 *
 * @module
 */

import { generateDemoSuite } from "../data/demo_suite.ts";
import { buildFeatures, type FeatureSet } from "../data/features.ts";
import { loadGlueFeatures } from "../data/cache.ts";
import type { GlueSplit } from "../data/glue_tasks.ts";
import { BertTokenizer } from "../text/tokenizer.ts";

/** Feature sets of a run, in task-id order; `dev` has `mnli-mm` after `mnli` (MNLI's id). */
export interface RunData {
  tokenizer: BertTokenizer;
  tasks: string[];
  train: FeatureSet[];
  dev: FeatureSet[];
  test: FeatureSet[];
}

/** Which splits to build. */
export interface SplitsWanted {
  train: boolean;
  dev: boolean;
  test: boolean;
}

/** The default feature cache folder: `$CAMTL_CACHE`, else `~/.cache/camtl/features`. */
export function defaultCacheDir(): string {
  const own = Deno.env.get("CAMTL_CACHE");
  if (own) return own;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "."}/.cache`;
  return `${base}/camtl/features`;
}

/** The embedded demo: a generated suite, its own vocabulary, features built in memory. */
export async function demoData(
  options: { seed: number; maxSeqLength: number; splits: SplitsWanted },
): Promise<RunData> {
  const suite = generateDemoSuite({ seed: options.seed });
  const tokenizer = BertTokenizer.fromVocab(suite.vocab, { doLowerCase: true });
  const out: RunData = { tokenizer, tasks: [], train: [], dev: [], test: [] };
  for (const [taskId, t] of suite.tasks.entries()) {
    out.tasks.push(t.task.name);
    for (const split of ["train", "dev", "test"] as const) {
      if (!options.splits[split]) continue;
      out[split].push(
        await buildFeatures(t[split], {
          tokenizer,
          task: t.task.name,
          taskId,
          split,
          maxSeqLength: options.maxSeqLength,
        }),
      );
    }
  }
  return out;
}

/** GLUE tasks from `dataDir`, through the feature cache. */
export async function glueData(options: {
  dataDir: string;
  tasks: string[];
  tokenizer: BertTokenizer;
  maxSeqLength: number;
  cacheDir: string;
  overwriteCache: boolean;
  splits: SplitsWanted;
}): Promise<RunData> {
  const { tokenizer } = options;
  const out: RunData = { tokenizer, tasks: [...options.tasks], train: [], dev: [], test: [] };
  const load = async (task: string, taskId: number, split: GlueSplit) =>
    (await loadGlueFeatures({
      dataDir: options.dataDir,
      task,
      taskId,
      split,
      tokenizer,
      maxSeqLength: options.maxSeqLength,
      cacheDir: options.cacheDir,
      overwriteCache: options.overwriteCache,
    })).features;
  for (const [taskId, task] of options.tasks.entries()) {
    if (options.splits.train) out.train.push(await load(task, taskId, "train"));
    // The released code evaluates mnli-mm with MNLI's head, right after mnli.
    const evalTasks = task === "mnli" ? ["mnli", "mnli-mm"] : [task];
    for (const t of evalTasks) {
      if (options.splits.dev) out.dev.push(await load(t, taskId, "dev"));
      if (options.splits.test) out.test.push(await load(t, taskId, "test"));
    }
  }
  return out;
}
