/**
 * Extractive question answering readers: the SQuAD v1.1 JSON file (`dev-v1.1.json`) and MRQA's
 * JSON-lines files (`SQuAD.jsonl.gz`: a header line, then one context per line), both into
 * paragraphs of questions with their answers as character offsets.
 *
 * - SQuAD: each answer's `answer_start` must point at its `text` in the context, exactly; the
 *   gold answers for scoring are the answers' texts.
 * - MRQA: each `detected_answers[].char_spans` entry is `[start, end]` with `end` inclusive and
 *   must lie in the context. MRQA detected its spans after normalising, so the span may differ
 *   from the answer text by case, punctuation or an article ("The Broncos" at "Broncos"); the
 *   check is that the two agree after SQuAD normalisation. The gold answers for scoring are the
 *   question's `answers` strings, and its id is `qid`, as MRQA's evaluation keys predictions.
 *
 * A SQuAD file is one JSON document (SQuAD's own format), so it is read whole (5 MB for dev);
 * MRQA files are streamed line by line.
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import {
  child,
  fieldError,
  jsonInt,
  type JsonObject,
  jsonObjects,
  jsonString,
  jsonStrings,
  type JsonWhere,
  parseJsonDocument,
  readJsonLines,
} from "./jsonl.ts";
import { readLines } from "./lines.ts";
import { normalizeAnswer } from "./squad_metrics.ts";

/** An answer located in its context. */
export interface QaAnswer {
  /** The answer as the context spells it. */
  text: string;
  /** UTF-16 index of its first character in the context. */
  start: number;
}

/** One question. */
export interface QaQuestion {
  /** The id predictions are keyed by (SQuAD's `id`, MRQA's `qid`). */
  id: string;
  /** The question. */
  question: string;
  /** Located answers (the first one trains the model). */
  answers: QaAnswer[];
  /** Gold answer strings the metrics compare with. */
  golds: string[];
}

/** A context with its questions. */
export interface QaParagraph {
  /** 1-based line for MRQA; 1 for a SQuAD file (one JSON document). */
  line: number;
  /** The context. */
  context: string;
  /** Its questions. */
  questions: QaQuestion[];
}

function answerError(where: JsonWhere, what: string): DataError {
  const line = where.line === undefined ? "" : ` line ${where.line}`;
  return new DataError(`Cannot read "${where.file}"${line}: ${what}`, {
    file: where.file,
    line: where.line,
  });
}

function squadQuestion(context: string, q: JsonObject, where: JsonWhere): QaQuestion {
  const id = jsonString(q, "id", where);
  const question = jsonString(q, "question", where);
  if (q.is_impossible === true) {
    throw fieldError(
      where,
      "is_impossible",
      "is true: SQuAD 2.0 unanswerable questions are not supported",
    );
  }
  const answers = jsonObjects(q, "answers", where).map((a, i) => {
    const aw = child(child(where, "answers"), i);
    const text = jsonString(a, "text", aw);
    const start = jsonInt(a, "answer_start", aw);
    const found = context.slice(start, start + text.length);
    if (start < 0 || found !== text) {
      throw answerError(
        aw,
        `answer ${
          JSON.stringify(text)
        } of question "${id}" (field "${aw.path}") is not in its context at answer_start ${start} (the context there reads ${
          JSON.stringify(found)
        }); fix answer_start`,
      );
    }
    return { text, start };
  });
  return { id, question, answers, golds: answers.map((a) => a.text) };
}

/**
 * Reads a SQuAD v1.1 JSON file.
 *
 * @param path The file, e.g. `squad_v1.1/dev-v1.1.json`.
 * @returns Its paragraphs in file order.
 * @throws {DataError} For invalid JSON, a missing or mistyped field (named by its path, e.g.
 * `data[3].paragraphs[0].qas[2].id`), an answer that is not in its context at `answer_start`,
 * or a file without questions.
 */
export async function readSquadFile(path: string): Promise<QaParagraph[]> {
  const parts: string[] = [];
  for await (const { text } of readLines(path)) parts.push(text);
  const doc = parseJsonDocument(parts.join("\n"), path);
  const top: JsonWhere = { file: path, path: "" };
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new DataError(
      `Cannot read "${path}": it is not a SQuAD file (a JSON object with "data")`,
      {
        file: path,
      },
    );
  }
  const out: QaParagraph[] = [];
  jsonObjects(doc as JsonObject, "data", top).forEach((article, ai) => {
    const aw = child(child(top, "data"), ai);
    jsonObjects(article, "paragraphs", aw).forEach((p, pi) => {
      const pw = child(child(aw, "paragraphs"), pi);
      const context = jsonString(p, "context", pw);
      const questions = jsonObjects(p, "qas", pw).map((q, qi) =>
        squadQuestion(context, q, child(child(pw, "qas"), qi))
      );
      out.push({ line: 1, context, questions });
    });
  });
  if (out.every((p) => p.questions.length === 0)) {
    throw new DataError(`Cannot read "${path}": the file has no questions`, { file: path });
  }
  return out;
}

function mrqaQuestion(context: string, q: JsonObject, where: JsonWhere): QaQuestion {
  const id = jsonString(q, "qid", where);
  const question = jsonString(q, "question", where);
  const golds = jsonStrings(q, "answers", where);
  const answers: QaAnswer[] = [];
  jsonObjects(q, "detected_answers", where).forEach((d, di) => {
    const dw = child(child(where, "detected_answers"), di);
    const text = jsonString(d, "text", dw);
    const spans = d.char_spans;
    if (!Array.isArray(spans)) throw fieldError(dw, "char_spans", "is missing or not an array");
    spans.forEach((span, si) => {
      const [start, end] = Array.isArray(span) ? span : [];
      if (!Number.isInteger(start) || !Number.isInteger(end) || span.length !== 2) {
        throw fieldError(
          child(dw, "char_spans"),
          si,
          `is ${JSON.stringify(span)}, expected [start, end]`,
        );
      }
      const found = context.slice(start, end + 1);
      if (
        start < 0 || end < start || end >= context.length ||
        normalizeAnswer(found) !== normalizeAnswer(text)
      ) {
        throw answerError(
          dw,
          `answer ${
            JSON.stringify(text)
          } of question "${id}" (field "${dw.path}.char_spans[${si}]") is not in its context at [${start}, ${end}] (the context there reads ${
            JSON.stringify(found)
          }); fix the span`,
        );
      }
      answers.push({ text: found, start });
    });
  });
  return { id, question, answers, golds };
}

/**
 * Streams an MRQA JSON-lines file (`.jsonl` or `.jsonl.gz`): an optional `{"header": ...}` line,
 * then one context with its questions per line.
 *
 * @param path The file, e.g. `mrqa/dev/SQuAD.jsonl.gz`.
 * @returns The paragraphs in file order.
 * @throws {DataError} For a line that is not a JSON object, a missing or mistyped field (file,
 * line and field path), a detected answer outside its context or not matching its text after
 * normalisation, or a file without contexts.
 */
export async function* readMrqaFile(path: string): AsyncGenerator<QaParagraph> {
  let contexts = 0;
  for await (const { value, where } of readJsonLines(path)) {
    if ("header" in value && !("context" in value)) continue;
    const context = jsonString(value, "context", where);
    const questions = jsonObjects(value, "qas", where).map((q, qi) =>
      mrqaQuestion(context, q, child(child(where, "qas"), qi))
    );
    contexts++;
    yield { line: where.line!, context, questions };
  }
  if (contexts === 0) {
    throw new DataError(`Cannot read "${path}": the file has no contexts`, { file: path });
  }
}
