/**
 * SuperGLUE readers: the JSON-lines files of BoolQ, CB, COPA, MultiRC, RTE, WiC, WSC and the
 * AX-b/AX-g diagnostics, as the benchmark distributes them, into one example shape that the
 * feature builder encodes as BERT pairs. How each task becomes text (the same choices as jiant,
 * the SuperGLUE baseline code):
 *
 * | task | text A | text B | label | extra |
 * | --- | --- | --- | --- | --- |
 * | boolq | question | passage | false/true | |
 * | cb, superglue-rte | premise | hypothesis | label string | |
 * | ax-b | sentence1 | sentence2 | label string | |
 * | ax-g | premise | hypothesis | label string | pair index in `group` |
 * | copa | premise + " What was the cause of this?" or " What happened as a result?" | one per choice | 0/1 | `choices` |
 * | multirc | paragraph | question + " " + answer option | 0/1 | question counter in `group`, ids in `multirc` |
 * | wic | sentence1 | sentence2 | false/true | the word's character span in each sentence |
 * | wsc | text | none | false/true | the character spans of span1 and span2 |
 *
 * Checks: every line is a JSON object with the task's fields of the right type; labels are in
 * the task's list; either every row of a file has a label or none has (test files); WiC offsets
 * lie inside their sentence; WSC word indices lie inside the text; AX-g rows come in pairs that
 * share a hypothesis. A WSC span text that differs from the words at its index (a dozen rows of
 * the official files: case, a possessive, one wrong word) is kept: the index is authoritative,
 * and the span takes as many characters as its text has, as jiant does.
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import {
  child,
  fieldError,
  jsonBool,
  jsonInt,
  type JsonObject,
  jsonObject,
  jsonObjects,
  jsonString,
  type JsonWhere,
  readJsonLines,
} from "./jsonl.ts";

/** The SuperGLUE task names (SuperGLUE's RTE is `superglue-rte`; plain `rte` is GLUE's). */
export type SuperGlueTaskName =
  | "boolq"
  | "cb"
  | "copa"
  | "multirc"
  | "superglue-rte"
  | "wic"
  | "wsc"
  | "ax-b"
  | "ax-g";

/** The SuperGLUE task names, in the benchmark's order. */
export const SUPERGLUE_TASKS: readonly SuperGlueTaskName[] = Object.freeze(
  [
    "boolq",
    "cb",
    "copa",
    "multirc",
    "superglue-rte",
    "wic",
    "wsc",
    "ax-b",
    "ax-g",
  ] as const,
);

const BOOL = Object.freeze(["false", "true"]);
const NLI2 = Object.freeze(["entailment", "not_entailment"]);

/** Label strings of each task in class-index order (COPA's are the choice numbers). */
export const SUPERGLUE_LABELS: Readonly<Record<SuperGlueTaskName, readonly string[]>> = Object
  .freeze({
    "boolq": BOOL,
    "cb": Object.freeze(["contradiction", "entailment", "neutral"]),
    "copa": Object.freeze(["0", "1"]),
    "multirc": Object.freeze(["0", "1"]),
    "superglue-rte": NLI2,
    "wic": BOOL,
    "wsc": BOOL,
    "ax-b": NLI2,
    "ax-g": NLI2,
  });

/** COPA's question sentences, appended to the premise (jiant's wording). */
export const COPA_QUESTIONS: Readonly<Record<"cause" | "effect", string>> = Object.freeze({
  cause: "What was the cause of this?",
  effect: "What happened as a result?",
});

/** A character span in text A (segment 0) or text B (segment 1), end exclusive. */
export interface CharSpan {
  /** 0 for text A, 1 for text B. */
  segment: 0 | 1;
  /** UTF-16 index of the first character. */
  start: number;
  /** UTF-16 index one past the last character. */
  end: number;
}

/** One SuperGLUE example (one answer option for MultiRC). */
export interface SuperGlueExample {
  /** 1-based line in the source file. */
  line: number;
  /** The benchmark's `idx` (MultiRC: the passage's), as the file gives it. */
  idx: number | string;
  /** First text. */
  textA: string;
  /** Second text; null for WSC; for COPA, unused (see `choices`). */
  textB: string | null;
  /** Class index into the task's labels (COPA: the right choice), or null in test files. */
  label: number | null;
  /** COPA: the two choices, each encoded as text B after text A. */
  choices?: [string, string];
  /** WiC: the word in each sentence; WSC: span1 and span2. */
  spans?: CharSpan[];
  /** MultiRC: the question's running number in the file; AX-g: the pair's number. */
  group?: number;
  /** MultiRC: passage, question and answer `idx`, for the nested submission format. */
  multirc?: [passage: number, question: number, answer: number];
}

/** The fields that give text A and text B of the plain pair tasks. */
const PAIR_FIELDS = {
  "boolq": ["question", "passage"],
  "cb": ["premise", "hypothesis"],
  "superglue-rte": ["premise", "hypothesis"],
  "ax-b": ["sentence1", "sentence2"],
} as const;

function labelIndex(
  task: SuperGlueTaskName,
  raw: unknown,
  where: JsonWhere,
  key = "label",
): number {
  const labels = SUPERGLUE_LABELS[task];
  if (labels === BOOL) return jsonBool({ [key]: raw }, key, where) ? 1 : 0;
  if (task === "copa" || task === "multirc") {
    if (raw === 0 || raw === 1) return raw;
    throw fieldError(where, key, `is ${JSON.stringify(raw)}, expected 0 or 1`);
  }
  const i = typeof raw === "string" ? labels.indexOf(raw) : -1;
  if (i < 0) {
    throw fieldError(
      where,
      key,
      `is ${JSON.stringify(raw)}, not one of the "${task}" labels ${
        labels.map((l) => `"${l}"`).join(", ")
      }`,
    );
  }
  return i;
}

function idxOf(obj: JsonObject, where: JsonWhere): number | string {
  if (!("idx" in obj)) throw fieldError(where, "idx", "is missing");
  const v = obj.idx;
  if (Number.isInteger(v) || typeof v === "string") return v as number | string;
  throw fieldError(where, "idx", `is ${JSON.stringify(v)}, expected an integer or a string`);
}

/** Start offsets of the whitespace-separated words of `text` (Python's `str.split()`). */
function wordStarts(text: string): number[] {
  const starts: number[] = [];
  for (const m of text.matchAll(/\S+/gu)) starts.push(m.index);
  return starts;
}

function wscSpan(text: string, target: JsonObject, n: 1 | 2, where: JsonWhere): CharSpan {
  const index = jsonInt(target, `span${n}_index`, where);
  const spanText = jsonString(target, `span${n}_text`, where);
  const starts = wordStarts(text);
  if (index < 0 || index >= starts.length) {
    throw fieldError(
      where,
      `span${n}_index`,
      `is ${index}, but the text has ${starts.length} words (indices from 0)`,
    );
  }
  const start = starts[index];
  return { segment: 0, start, end: Math.min(text.length, start + spanText.length) };
}

function wicSpan(obj: JsonObject, n: 1 | 2, sentence: string, where: JsonWhere): CharSpan {
  const start = jsonInt(obj, `start${n}`, where);
  const end = jsonInt(obj, `end${n}`, where);
  if (!(start >= 0 && start < end && end <= sentence.length)) {
    throw fieldError(
      where,
      `end${n}`,
      `makes the span [${start}, ${end}), which is not inside sentence${n} (${sentence.length} characters)`,
    );
  }
  return { segment: (n - 1) as 0 | 1, start, end };
}

/** State carried from row to row: label presence, MultiRC's question counter, AX-g pairing. */
interface ReadState {
  labelled: boolean | null;
  questions: number;
  pending: { hypothesis: string; line: number } | null;
  pairs: number;
}

function parseRow(
  task: SuperGlueTaskName,
  obj: JsonObject,
  where: JsonWhere,
  state: ReadState,
): SuperGlueExample[] {
  const line = where.line!;
  const has = "label" in obj;
  const label = (key = "label") => labelIndex(task, obj[key], where, key);
  const base = { line, idx: idxOf(obj, where) };
  switch (task) {
    case "boolq":
    case "cb":
    case "superglue-rte":
    case "ax-b": {
      const [a, b] = PAIR_FIELDS[task];
      const textA = jsonString(obj, a, where), textB = jsonString(obj, b, where);
      return [{ ...base, textA, textB, label: has ? label() : null }];
    }
    case "ax-g":
      return [axgRow(obj, where, state, has ? label() : null, base)];
    case "copa": {
      const question = jsonString(obj, "question", where);
      if (question !== "cause" && question !== "effect") {
        throw fieldError(
          where,
          "question",
          `is ${JSON.stringify(question)}, expected "cause" or "effect"`,
        );
      }
      return [{
        ...base,
        textA: `${jsonString(obj, "premise", where)} ${COPA_QUESTIONS[question]}`,
        textB: null,
        choices: [jsonString(obj, "choice1", where), jsonString(obj, "choice2", where)],
        label: has ? label() : null,
      }];
    }
    case "wic": {
      const textA = jsonString(obj, "sentence1", where);
      const textB = jsonString(obj, "sentence2", where);
      jsonString(obj, "word", where);
      const spans = [wicSpan(obj, 1, textA, where), wicSpan(obj, 2, textB, where)];
      return [{ ...base, textA, textB, spans, label: has ? label() : null }];
    }
    case "wsc": {
      const text = jsonString(obj, "text", where);
      const target = jsonObject(obj, "target", where);
      const at = child(where, "target");
      const spans = [wscSpan(text, target, 1, at), wscSpan(text, target, 2, at)];
      return [{ ...base, textA: text, textB: null, spans, label: has ? label() : null }];
    }
    case "multirc":
      return multircRows(obj, where, state);
  }
}

function axgRow(
  obj: JsonObject,
  where: JsonWhere,
  state: ReadState,
  label: number | null,
  base: { line: number; idx: number | string },
): SuperGlueExample {
  const hypothesis = jsonString(obj, "hypothesis", where);
  const premise = jsonString(obj, "premise", where);
  const group = state.pairs;
  if (state.pending === null) state.pending = { hypothesis, line: base.line };
  else {
    if (state.pending.hypothesis !== hypothesis) {
      throw new DataError(
        `Cannot read "${where.file}" line ${base.line}: AX-g rows come in pairs that share a hypothesis (one sentence, two pronouns), but its hypothesis differs from line ${state.pending.line}'s`,
        { file: where.file, line: base.line },
      );
    }
    state.pending = null;
    state.pairs++;
  }
  return { ...base, textA: premise, textB: hypothesis, label, group };
}

function multircRows(obj: JsonObject, where: JsonWhere, state: ReadState): SuperGlueExample[] {
  const passageIdx = jsonInt(obj, "idx", where);
  const passage = jsonObject(obj, "passage", where);
  const pw = child(where, "passage");
  const text = jsonString(passage, "text", pw);
  const out: SuperGlueExample[] = [];
  jsonObjects(passage, "questions", pw).forEach((q, qi) => {
    const qw = child(child(pw, "questions"), qi);
    const question = jsonString(q, "question", qw);
    const questionIdx = jsonInt(q, "idx", qw);
    const group = state.questions++;
    jsonObjects(q, "answers", qw).forEach((a, ai) => {
      const aw = child(child(qw, "answers"), ai);
      const labelled = "label" in a;
      if (state.labelled === null) state.labelled = labelled;
      else if (state.labelled !== labelled) throw mixedLabels(aw, labelled);
      out.push({
        line: where.line!,
        idx: passageIdx,
        textA: text,
        textB: `${question} ${jsonString(a, "text", aw)}`,
        label: labelled ? labelIndex("multirc", a.label, aw) : null,
        group,
        multirc: [passageIdx, questionIdx, jsonInt(a, "idx", aw)],
      });
    });
  });
  return out;
}

function mixedLabels(where: JsonWhere, has: boolean): DataError {
  return fieldError(
    where,
    "label",
    has
      ? "is present, but earlier rows have none; a file is either labelled or a test file"
      : "is missing, but earlier rows have one; a file is either labelled or a test file",
  );
}

/**
 * Streams the examples of one SuperGLUE file (MultiRC: one per answer option).
 *
 * @param options The task and the file (see `taskDataPath` for where it is).
 * @returns The examples in file order.
 * @throws {DataError} For an unreadable file, a line that is not a JSON object, a missing or
 * mistyped field, a label outside the task's list, labelled and unlabelled rows mixed, a WiC
 * span outside its sentence, a WSC index outside its text, broken AX-g pairs, or a file with
 * no rows; each names the file, the line and the field.
 *
 * @example
 * ```ts ignore
 * for await (const ex of readSuperGlueExamples({ task: "cb", path: "superglue/CB/val.jsonl" })) {
 *   console.log(ex.textA, ex.textB, ex.label); // premise, hypothesis, 0..2
 * }
 * ```
 */
export async function* readSuperGlueExamples(
  options: { task: SuperGlueTaskName; path: string },
): AsyncGenerator<SuperGlueExample> {
  const { task, path } = options;
  const state: ReadState = { labelled: null, questions: 0, pending: null, pairs: 0 };
  let rows = 0;
  let lastLine = 0;
  for await (const { value, where } of readJsonLines(path)) {
    if (task !== "multirc") {
      const has = "label" in value;
      if (state.labelled === null) state.labelled = has;
      else if (state.labelled !== has) throw mixedLabels(where, has);
    }
    for (const ex of parseRow(task, value, where, state)) yield ex;
    rows++;
    lastLine = where.line!;
  }
  if (rows === 0) {
    throw new DataError(`Cannot read "${path}": the file has no JSON rows`, { file: path });
  }
  if (state.pending !== null) {
    throw new DataError(
      `Cannot read "${path}" line ${lastLine}: AX-g rows come in pairs, but the last row has no partner`,
      { file: path, line: lastLine },
    );
  }
}
