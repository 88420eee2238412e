/**
 * A run's prediction files, each in its benchmark's submission format and written atomically:
 * GLUE (and the demo's tasks) `<task>_test_iter_<step>.tsv` with `index<TAB>prediction`;
 * SuperGLUE the leaderboard's JSON lines (`CB.jsonl`, `AX-g.jsonl`, ...); WNUT-2017 CoNLL
 * columns `<task>_<split>_predictions.txt` as conlleval reads them; SQuAD and MRQA
 * `predictions_<task>.json`, `{question id: answer}`, which the official scripts read.
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import type { FeatureSet } from "../data/features.ts";
import {
  answerPredictionFileName,
  superGluePredictionFileName,
  writeAnswerPredictions,
  writeSuperGluePredictions,
  writeTagPredictions,
} from "../data/submissions.ts";
import { SUPERGLUE_TASKS } from "../data/superglue.ts";
import type { TaskPredictions } from "../data/task_outputs.ts";
import { getTask } from "../data/tasks.ts";

/** One line per test prediction, GLUE submission format: label strings, 3 decimals for scores. */
function glueSubmission(set: FeatureSet, predictions: ArrayLike<number>): string {
  const labels = getTask(set.task).labels;
  const lines = ["index\tprediction"];
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    lines.push(`${i}\t${labels ? labels[p] : p.toFixed(3)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes the predictions of one set into `outputDir`, in its benchmark's format.
 *
 * @param set The dev or test features the predictions are for.
 * @param predictions Their decoded predictions (`decodeOutputs`).
 * @param step The global step, in the GLUE file's name as the released code writes it.
 * @returns The file's name inside `outputDir`.
 */
export async function writePredictionFile(
  outputDir: string,
  set: FeatureSet,
  predictions: TaskPredictions,
  step: number,
): Promise<string> {
  const task = set.task, split = set.key.split;
  let name: string;
  switch (predictions.kind) {
    case "span-extraction":
      name = answerPredictionFileName(task);
      await writeAnswerPredictions(`${outputDir}/${name}`, set, predictions.answers);
      return name;
    case "token-classification":
      name = `${task}_${split}_predictions.txt`;
      await writeTagPredictions(`${outputDir}/${name}`, set, predictions.tags);
      return name;
    default:
      if ((SUPERGLUE_TASKS as readonly string[]).includes(task)) {
        name = superGluePredictionFileName(task);
        await writeSuperGluePredictions(`${outputDir}/${name}`, set, predictions.labels);
        return name;
      }
      name = `${task}_test_iter_${step}.tsv`;
      await writeTextAtomic(`${outputDir}/${name}`, glueSubmission(set, predictions.labels));
      return name;
  }
}
