/**
 * Test-set predictions in GLUE submission format, as the released trainer writes them
 * (docs/model.md §13.3): a header `index<TAB>prediction`, then one line per example with its
 * position and the predicted label string (classification) or the score with 3 decimals (STS-B).
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import { assertGlueTask, GLUE_LABELS, numLabels } from "./glue_tasks.ts";

/**
 * Row-wise argmax of `[N, C]` logits: the predicted class of each example (first maximum
 * wins, as `numpy.argmax`).
 *
 * @throws {TypeError} When `logits.length` is not a multiple of `C`.
 */
export function argmaxRows(logits: ArrayLike<number>, C: number): Int32Array {
  if (!Number.isInteger(C) || C < 1 || logits.length % C !== 0) {
    throw new TypeError(`Cannot take the argmax of ${logits.length} logits in rows of ${C}`);
  }
  const out = new Int32Array(logits.length / C);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * The submission text for one task.
 *
 * @param task A GLUE task name (`mnli-mm` included).
 * @param predictions Class indices, or STS-B scores.
 * @returns The file contents, ending in a newline.
 * @throws {RangeError} For an unknown task or a class index outside the task's label list.
 *
 * @example
 * ```ts
 * import { formatGluePredictions } from "./predictions.ts";
 * const text = formatGluePredictions("rte", [1, 0]);
 * if (text !== "index\tprediction\n0\tnot_entailment\n1\tentailment\n") throw new Error(text);
 * if (formatGluePredictions("sts-b", [3.14159]) !== "index\tprediction\n0\t3.142\n") throw new Error();
 * ```
 */
export function formatGluePredictions(task: string, predictions: ArrayLike<number>): string {
  const name = assertGlueTask(task);
  const regression = numLabels(name) === 1;
  const labels = GLUE_LABELS[name];
  const lines = ["index\tprediction"];
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    if (regression) {
      lines.push(`${i}\t${p.toFixed(3)}`);
    } else {
      if (!Number.isInteger(p) || p < 0 || p >= labels.length) {
        throw new RangeError(
          `Cannot write predictions of "${name}": prediction ${i} is ${p}, not a class index below ${labels.length}`,
        );
      }
      lines.push(`${i}\t${labels[p]}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The released trainer's file name for a task's test predictions,
 * `<task>_test_iter_<globalStep>.tsv`.
 */
export function gluePredictionFileName(task: string, globalStep: number): string {
  return `${assertGlueTask(task)}_test_iter_${globalStep}.tsv`;
}

/**
 * Writes a task's predictions atomically (temporary file in the same folder, then rename).
 *
 * @param path Output file.
 * @param prediction The task and its class indices (e.g. from {@linkcode argmaxRows}) or STS-B scores.
 * @throws {RangeError} As {@linkcode formatGluePredictions}.
 */
export async function writeGluePredictions(
  path: string,
  { task, predictions }: { task: string; predictions: ArrayLike<number> },
): Promise<void> {
  await writeTextAtomic(path, formatGluePredictions(task, predictions));
}
