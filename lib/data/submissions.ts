/**
 * Prediction files in each benchmark's own format, written atomically:
 *
 * - SuperGLUE: one JSON object per line, `{"idx": <idx>, "label": <label>}`, in the file the
 *   leaderboard expects for the task (`BoolQ.jsonl`, `CB.jsonl`, ..., `AX-g.jsonl`). Labels are
 *   written as jiant writes them for the leaderboard: BoolQ and WiC `"true"`/`"false"`, WSC
 *   `"True"`/`"False"`, COPA the choice number, CB, RTE and the diagnostics their label
 *   strings; MultiRC nests answers under questions under passages:
 *   `{"idx": p, "passage": {"questions": [{"idx": q, "answers": [{"idx": a, "label": 0|1}]}]}}`.
 * - SQuAD and MRQA: one JSON object `{question id: answer text}` (`predictions_<task>.json`),
 *   which the official evaluation scripts read.
 * - WNUT-2017: CoNLL columns, `token<TAB>gold<TAB>predicted` (or `token<TAB>predicted` without
 *   gold tags), a blank line after each sentence, as conlleval reads them (`-d "\t"`).
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import type { FeatureSet } from "./features.ts";
import { SUPERGLUE_LABELS, SUPERGLUE_TASKS, type SuperGlueTaskName } from "./superglue.ts";

const SUPERGLUE_FILES: Readonly<Record<SuperGlueTaskName, string>> = Object.freeze({
  "boolq": "BoolQ.jsonl",
  "cb": "CB.jsonl",
  "copa": "COPA.jsonl",
  "multirc": "MultiRC.jsonl",
  "superglue-rte": "RTE.jsonl",
  "wic": "WiC.jsonl",
  "wsc": "WSC.jsonl",
  "ax-b": "AX-b.jsonl",
  "ax-g": "AX-g.jsonl",
});

function superGlueTask(task: string): SuperGlueTaskName {
  if (!(SUPERGLUE_TASKS as readonly string[]).includes(task)) {
    throw new RangeError(
      `Cannot write SuperGLUE predictions for "${task}": it is not a SuperGLUE task (${
        SUPERGLUE_TASKS.join(", ")
      })`,
    );
  }
  return task as SuperGlueTaskName;
}

/** The leaderboard's file name for a SuperGLUE task's predictions, e.g. `RTE.jsonl`. */
export function superGluePredictionFileName(task: string): string {
  return SUPERGLUE_FILES[superGlueTask(task)];
}

function labelValue(task: SuperGlueTaskName, p: number): string | number {
  if (task === "copa" || task === "multirc") return p;
  const label = SUPERGLUE_LABELS[task][p];
  if (task === "wsc") return label === "true" ? "True" : "False";
  return label;
}

/** SuperGLUE's idx as a number where the file gave a number written as a string (AX-b). */
function idxValue(idx: string | number): string | number {
  return typeof idx === "string" && /^\d+$/.test(idx) ? Number(idx) : idx;
}

/**
 * The SuperGLUE submission text of one task.
 *
 * @param set The task's test (or dev) features; its `meta` has each example's idx.
 * @param predictions Class (or choice) index of each example.
 * @returns JSON lines, ending in a newline.
 * @throws {RangeError} For a task outside SuperGLUE or a prediction outside its labels.
 * @throws {TypeError} When the set lacks its ids or the counts differ.
 * @example
 * ```ts ignore
 * await writeSuperGluePredictions(`${outputDir}/${superGluePredictionFileName("cb")}`, testSet, preds);
 * ```
 */
export function formatSuperGluePredictions(
  set: FeatureSet,
  predictions: ArrayLike<number>,
): string {
  const task = superGlueTask(set.task);
  const ids = set.meta?.ids;
  if (!ids || ids.length !== predictions.length || ids.length !== set.size) {
    throw new TypeError(
      `Cannot write predictions of "${task}": ${predictions.length} predictions for ${set.size} examples with ${
        ids?.length ?? "no"
      } ids`,
    );
  }
  const count = SUPERGLUE_LABELS[task].length;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i];
    if (!Number.isInteger(p) || p < 0 || p >= count) {
      throw new RangeError(
        `Cannot write predictions of "${task}": prediction ${i} is ${p}, not a class index below ${count}`,
      );
    }
  }
  if (task !== "multirc") {
    return ids.map((idx, i) =>
      JSON.stringify({ idx: idxValue(idx), label: labelValue(task, predictions[i]) }) + "\n"
    ).join("");
  }
  const where = set.meta?.multirc;
  if (!where || where.length !== ids.length) {
    throw new TypeError(`Cannot write predictions of "multirc": its set lacks the answers' ids`);
  }
  // Passages, then questions, in first-seen order (Maps keep insertion order).
  const passages = new Map<number, Map<number, { idx: number; label: number }[]>>();
  where.forEach(([p, q, a], i) => {
    if (!passages.has(p)) passages.set(p, new Map());
    const questions = passages.get(p)!;
    if (!questions.has(q)) questions.set(q, []);
    questions.get(q)!.push({ idx: a, label: predictions[i] });
  });
  return [...passages].map(([p, questions]) =>
    JSON.stringify({
      idx: p,
      passage: { questions: [...questions].map(([q, answers]) => ({ idx: q, answers })) },
    }) + "\n"
  ).join("");
}

/** Writes {@linkcode formatSuperGluePredictions} to `path` atomically. */
export async function writeSuperGluePredictions(
  path: string,
  set: FeatureSet,
  predictions: ArrayLike<number>,
): Promise<void> {
  await writeTextAtomic(path, formatSuperGluePredictions(set, predictions));
}

/** The file name of a span-extraction task's predictions, `predictions_<task>.json`. */
export function answerPredictionFileName(task: string): string {
  return `predictions_${task}.json`;
}

/**
 * SQuAD's prediction file: `{question id: answer}` for every question of the set.
 *
 * @throws {TypeError} When the set has no question ids or the counts differ.
 */
export function formatAnswerPredictions(set: FeatureSet, answers: readonly string[]): string {
  const ids = set.meta?.ids;
  if (!ids || ids.length !== answers.length) {
    throw new TypeError(
      `Cannot write predictions of "${set.task}": ${answers.length} answers for ${
        ids?.length ?? "no"
      } questions`,
    );
  }
  const out: Record<string, string> = {};
  ids.forEach((id, i) => out[String(id)] = answers[i]);
  return JSON.stringify(out, null, 2) + "\n";
}

/** Writes {@linkcode formatAnswerPredictions} to `path` atomically. */
export async function writeAnswerPredictions(
  path: string,
  set: FeatureSet,
  answers: readonly string[],
): Promise<void> {
  await writeTextAtomic(path, formatAnswerPredictions(set, answers));
}

/**
 * CoNLL columns of token tagging predictions: `token<TAB>gold<TAB>predicted` per word (gold
 * when the set has tags), a blank line after each sentence.
 *
 * @throws {TypeError} When the set has no words or a sentence's tag count differs.
 */
export function formatTagPredictions(
  set: FeatureSet,
  tags: readonly (readonly string[])[],
): string {
  const words = set.meta?.words, gold = set.meta?.tags;
  if (!words || words.length !== tags.length) {
    throw new TypeError(
      `Cannot write predictions of "${set.task}": ${tags.length} tagged sentences for ${
        words?.length ?? "no"
      } sentences`,
    );
  }
  const lines: string[] = [];
  words.forEach((ws, s) => {
    if (tags[s].length !== ws.length) {
      throw new TypeError(
        `Cannot write predictions of "${set.task}": sentence ${s} has ${ws.length} words but ${
          tags[s].length
        } tags`,
      );
    }
    ws.forEach((w, i) =>
      lines.push(gold ? `${w}\t${gold[s][i]}\t${tags[s][i]}` : `${w}\t${tags[s][i]}`)
    );
    lines.push("");
  });
  return lines.join("\n") + "\n";
}

/** Writes {@linkcode formatTagPredictions} to `path` atomically. */
export async function writeTagPredictions(
  path: string,
  set: FeatureSet,
  tags: readonly (readonly string[])[],
): Promise<void> {
  await writeTextAtomic(path, formatTagPredictions(set, tags));
}
