/**
 * JSON inputs with errors that say where: a JSON-lines reader (SuperGLUE, MRQA) that names the
 * file and line of a line that is not a JSON object, and typed field access that names the
 * field's path (`target.span1_index`, `data[3].paragraphs[0].qas[2].id`) and what it holds
 * instead of what it should.
 *
 * @module
 */

import { DataError } from "./data_error.ts";
import { readLines, type ReadLinesOptions } from "./lines.ts";

/** A JSON object. */
export type JsonObject = { [key: string]: unknown };

/** Where a JSON value sits: its file, its line (JSON lines) and its path inside the document. */
export interface JsonWhere {
  /** The file. */
  file: string;
  /** 1-based line, for JSON-lines files. */
  line?: number;
  /** Path of the enclosing object, e.g. `target` or `data[3].paragraphs[0]`; "" for the top. */
  path: string;
}

/** One parsed line of a JSON-lines file. */
export interface JsonLine {
  /** The object on the line. */
  value: JsonObject;
  /** Where it is (path ""). */
  where: JsonWhere;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") {
    return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  }
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function at(where: JsonWhere): string {
  return where.line === undefined ? `"${where.file}"` : `"${where.file}" line ${where.line}`;
}

/** The path of `key` (a name or an index) below `where`. */
export function childPath(where: JsonWhere, key: string | number): string {
  if (typeof key === "number") return `${where.path}[${key}]`;
  return where.path === "" ? key : `${where.path}.${key}`;
}

/** `where` moved down to `key`. */
export function child(where: JsonWhere, key: string | number): JsonWhere {
  return { ...where, path: childPath(where, key) };
}

/**
 * A {@linkcode DataError} about the field `key` below `where`: `Cannot read "<file>" line <n>:
 * field "<path>" <problem>`.
 */
export function fieldError(where: JsonWhere, key: string | number, problem: string): DataError {
  return new DataError(`Cannot read ${at(where)}: field "${childPath(where, key)}" ${problem}`, {
    file: where.file,
    line: where.line,
  });
}

function get(obj: JsonObject, key: string, where: JsonWhere): unknown {
  if (!(key in obj)) throw fieldError(where, key, "is missing");
  return obj[key];
}

/** `obj[key]` as a string. @throws {DataError} Naming the field when it is missing or not a string. */
export function jsonString(obj: JsonObject, key: string, where: JsonWhere): string {
  const v = get(obj, key, where);
  if (typeof v !== "string") throw fieldError(where, key, `is ${describe(v)}, expected a string`);
  return v;
}

/** `obj[key]` as an integer. @throws {DataError} Naming the field when it is missing or not one. */
export function jsonInt(obj: JsonObject, key: string, where: JsonWhere): number {
  const v = get(obj, key, where);
  if (!Number.isInteger(v)) throw fieldError(where, key, `is ${describe(v)}, expected an integer`);
  return v as number;
}

/** `obj[key]` as a boolean. @throws {DataError} Naming the field when it is missing or not one. */
export function jsonBool(obj: JsonObject, key: string, where: JsonWhere): boolean {
  const v = get(obj, key, where);
  if (typeof v !== "boolean") {
    throw fieldError(where, key, `is ${describe(v)}, expected true or false`);
  }
  return v;
}

/** `obj[key]` as an object. @throws {DataError} Naming the field when it is missing or not one. */
export function jsonObject(obj: JsonObject, key: string, where: JsonWhere): JsonObject {
  const v = get(obj, key, where);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw fieldError(where, key, `is ${describe(v)}, expected an object`);
  }
  return v as JsonObject;
}

/**
 * `obj[key]` as an array of objects.
 *
 * @throws {DataError} Naming the field (or the element) when it is missing, not an array, or
 * holds something other than objects.
 */
export function jsonObjects(obj: JsonObject, key: string, where: JsonWhere): JsonObject[] {
  const v = get(obj, key, where);
  if (!Array.isArray(v)) throw fieldError(where, key, `is ${describe(v)}, expected an array`);
  const inner = child(where, key);
  v.forEach((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e)) {
      throw fieldError(inner, i, `is ${describe(e)}, expected an object`);
    }
  });
  return v as JsonObject[];
}

/**
 * `obj[key]` as an array of strings.
 *
 * @throws {DataError} Naming the field (or the element) when it is missing or not that.
 */
export function jsonStrings(obj: JsonObject, key: string, where: JsonWhere): string[] {
  const v = get(obj, key, where);
  if (!Array.isArray(v)) throw fieldError(where, key, `is ${describe(v)}, expected an array`);
  const inner = child(where, key);
  v.forEach((e, i) => {
    if (typeof e !== "string") throw fieldError(inner, i, `is ${describe(e)}, expected a string`);
  });
  return v as string[];
}

/**
 * Parses a whole JSON document (SQuAD's one-line file).
 *
 * @throws {DataError} Naming the file and the parser's complaint when it is not valid JSON.
 */
export function parseJsonDocument(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataError(
      `Cannot read "${file}": it is not valid JSON (${(err as Error).message})`,
      { file },
    );
  }
}

/**
 * Streams a JSON-lines file: one JSON object per line; blank lines are skipped.
 *
 * @param path The file (`.gz` is decompressed).
 * @param options As `readLines`.
 * @returns Each object with its line number.
 * @throws {DataError} For a line that is not valid JSON or not an object, naming file and
 * line, and as `readLines` for unreadable files.
 *
 * @example
 * ```ts
 * import { readJsonLines } from "./jsonl.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"idx": 0}\n\n{"idx": 1}\n');
 * const lines = [];
 * for await (const { value, where } of readJsonLines(path)) lines.push([value.idx, where.line]);
 * if (JSON.stringify(lines) !== "[[0,1],[1,3]]") throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function* readJsonLines(
  path: string,
  options: ReadLinesOptions = {},
): AsyncGenerator<JsonLine> {
  for await (const { text, line } of readLines(path, options)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DataError(
        `Cannot read "${path}" line ${line}: it is not valid JSON (${
          (err as Error).message
        }); each line must hold one JSON object`,
        { file: path, line },
      );
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new DataError(
        `Cannot read "${path}" line ${line}: it holds ${
          describe(value)
        }, but each line must hold one JSON object`,
        { file: path, line },
      );
    }
    yield { value: value as JsonObject, where: { file: path, line, path: "" } };
  }
}
