/**
 * Streaming reader for GLUE's tab-separated files, the way transformers 2.x reads them
 * (`csv.reader(f, delimiter="\t", quotechar=None)`): fields are split on every tab, quotes are
 * ordinary characters, a UTF-8 byte-order mark at the start is dropped and `\r\n` line ends
 * are accepted.
 *
 * Lines come from `readLines` (`lines.ts`), so memory stays bounded by the chunk size plus the
 * longest line (MNLI train is 393k rows), and a NUL byte or invalid UTF-8 is reported with the
 * exact line it is on.
 *
 * @module
 */

import { readLines, type ReadLinesOptions } from "./lines.ts";

/** One row of a TSV file. */
export interface TsvRow {
  /** The fields, split on every tab (no quoting). */
  fields: string[];
  /** 1-based line number in the file. */
  line: number;
}

/** Options for {@linkcode readTsv}: chunk size and line-length limit. */
export type ReadTsvOptions = Pick<ReadLinesOptions, "chunkSize" | "maxLineBytes">;

/**
 * Yields the rows of a TSV file one at a time, with their 1-based line numbers.
 *
 * A final line end does not produce an empty row; a blank line in the middle yields one
 * empty field, so the caller's column check reports it.
 *
 * @param path The file to read.
 * @param options Chunk size and line-length limit.
 * @returns The rows, in file order.
 * @throws {DataError} When the file is empty, holds NUL bytes or invalid UTF-8 (naming the
 * line), has a line longer than `maxLineBytes`, or cannot be opened.
 *
 * @example Reading a small file
 * ```ts
 * import { readTsv } from "./tsv.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "\ufeffa\tb\r\nc\td\n");
 * const rows = [];
 * for await (const row of readTsv(path)) rows.push(row);
 * if (rows.length !== 2 || rows[0].fields[0] !== "a" || rows[1].line !== 2) throw new Error();
 * await Deno.remove(path);
 * ```
 */
export async function* readTsv(
  path: string,
  options: ReadTsvOptions = {},
): AsyncGenerator<TsvRow> {
  for await (const { text, line } of readLines(path, { ...options, gzip: false })) {
    yield { fields: text.split("\t"), line };
  }
}
