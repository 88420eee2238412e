/**
 * The data a run trains and evaluates on: the tokenizer and the train, dev and test feature
 * sets of each task, from task folders or a data root (with the feature cache) or from the
 * embedded synthetic demo suite.
 *
 * @module
 */

import { generateDemoSuite } from "../data/demo_suite.ts";
import { buildFeatures, type FeatureSet } from "../data/features.ts";
import { taskDataPath, taskSplits } from "../data/data_layout.ts";
import { DataError } from "../data/data_error.ts";
import { isGlueTask } from "../data/glue_tasks.ts";
import type { Split } from "../data/beyond_glue.ts";
import { firstExamples } from "../data/feature_subset.ts";
import { loadTaskFeatures } from "../data/task_features.ts";
import { getTask } from "../data/tasks.ts";
import { BertTokenizer } from "../text/tokenizer.ts";

/** Feature sets of a run, in task-id order; `dev` has `mnli-mm` after `mnli` (MNLI's id). */
export interface RunData {
  tokenizer: BertTokenizer;
  tasks: string[];
  train: FeatureSet[];
  dev: FeatureSet[];
  test: FeatureSet[];
  /** Splits asked for but absent from the data folder, one line per task (e.g. SQuAD's train). */
  missing: string[];
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
  const out: RunData = { tokenizer, tasks: [], train: [], dev: [], test: [], missing: [] };
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

/** Options of {@linkcode taskData}. */
export interface TaskDataOptions {
  /** A folder of task folders, a data root (`glue/`, `superglue/`, ...) or one task's folder. */
  dataDir: string;
  /** `--tasks`, in task-id order (`ax-b`, `ax-g` take `superglue-rte`'s id). */
  tasks: string[];
  tokenizer: BertTokenizer;
  maxSeqLength: number;
  /** Span extraction windows (`--doc_stride`, `--max_query_length`). */
  docStride: number;
  maxQueryLength: number;
  /** `--max_train_samples`, `--max_eval_samples`: first examples kept per task; null keeps all. */
  maxTrainSamples: number | null;
  maxEvalSamples: number | null;
  cacheDir: string;
  overwriteCache: boolean;
  splits: SplitsWanted;
}

/**
 * The splits of `task` that the run wants and that are on disk. A GLUE task has all three (its
 * folder is checked by `validatePaths`; a missing file is an error when read). Another task may
 * lack some, as the public data does (SQuAD's test set, BoolQ's train set), but not all of the
 * wanted ones: then the first one's error, which lists the paths tried, is thrown.
 */
async function presentSplits(options: TaskDataOptions, task: string): Promise<Set<Split>> {
  const wanted = taskSplits(task).filter((split) => options.splits[split]);
  if (isGlueTask(task)) return new Set(wanted);
  const present = new Set<Split>();
  let first: unknown = null;
  for (const split of wanted) {
    try {
      await taskDataPath(options.dataDir, task, split);
      present.add(split);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      first ??= e;
    }
  }
  if (present.size === 0 && first !== null) throw first;
  return present;
}

/**
 * Any mix of tasks from `dataDir` (GLUE, SuperGLUE, WNUT-2017, SQuAD, MRQA; see
 * `taskDataPath` for the layouts), through the feature cache. Each task's dev and test sets
 * follow it, with `mnli-mm` after `mnli` as the released code evaluates it; a test-only
 * diagnostic (`ax-b`, `ax-g`) has a test set under its head's task id and no head of its own.
 * A task trains only where it has a training file, and is evaluated where it has the others.
 */
export async function taskData(options: TaskDataOptions): Promise<RunData> {
  const { tokenizer } = options;
  const heads = options.tasks.filter((t) => getTask(t).evaluatedWith === undefined);
  const out: RunData = { tokenizer, tasks: heads, train: [], dev: [], test: [], missing: [] };
  const load = async (task: string, split: Split, cap: number | null) => {
    const head = getTask(task).evaluatedWith ?? (task === "mnli-mm" ? "mnli" : task);
    const { features } = await loadTaskFeatures({
      ...options,
      task,
      taskId: heads.indexOf(head),
      split,
    });
    return cap === null ? features : firstExamples(features, cap);
  };
  for (const task of options.tasks) {
    const wanted = await presentSplits(options, task);
    if (wanted.has("train") && heads.includes(task)) {
      out.train.push(await load(task, "train", options.maxTrainSamples));
    }
    // The released code evaluates mnli-mm with MNLI's head, right after mnli.
    for (const t of task === "mnli" ? ["mnli", "mnli-mm"] : [task]) {
      for (const split of ["dev", "test"] as const) {
        if (wanted.has(split)) out[split].push(await load(t, split, options.maxEvalSamples));
      }
    }
    const missing = (["train", "dev", "test"] as const).filter((split) =>
      options.splits[split] && taskSplits(task).includes(split) && !wanted.has(split)
    );
    if (missing.length > 0) {
      out.missing.push(`${task} has no ${missing.join(" or ")} file under ${options.dataDir}`);
    }
  }
  return out;
}
