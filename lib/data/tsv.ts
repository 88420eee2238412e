/**
 * Streaming reader for GLUE's tab-separated files, the way transformers 2.x reads them
 * (`csv.reader(f, delimiter="\t", quotechar=None)`): fields are split on every tab, quotes are
 * ordinary characters, a UTF-8 byte-order mark at the start is dropped and `\r\n` line ends
 * are accepted.
 *
 * The file is read in fixed-size chunks and split into lines at the byte level, so memory
 * stays bounded by the chunk size plus the longest line (MNLI train is 393k rows), and each
 * line is decoded on its own, so that a NUL byte or invalid UTF-8 is reported with the exact
 * line it is on.
 *
 * @module
 */

import { DataError } from "./data_error.ts";

/** One row of a TSV file. */
export interface TsvRow {
  /** The fields, split on every tab (no quoting). */
  fields: string[];
  /** 1-based line number in the file. */
  line: number;
}

/** Options for {@linkcode readTsv}. */
export interface ReadTsvOptions {
  /** Bytes read per chunk (default 1 MiB). */
  chunkSize?: number;
  /** Longest line accepted, in bytes (default 16 MiB); a longer one is reported as binary. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

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
  const chunkSize = options.chunkSize ?? 1 << 20;
  const maxLineBytes = options.maxLineBytes ?? 16 << 20;
  if (!(chunkSize >= 1)) throw new RangeError(`Cannot read "${path}": chunkSize is ${chunkSize}`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new DataError(`Cannot open "${path}": ${(err as Error).message}`, { file: path });
  }
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const chunk = new Uint8Array(chunkSize);
  let carry: Uint8Array = new Uint8Array(0);
  let line = 0;
  let sawBytes = false;
  let first = true;

  const decodeLine = (bytes: Uint8Array): TsvRow => {
    line++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    let start = 0;
    if (first) {
      first = false;
      if (end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
    }
    const body = bytes.subarray(start, end);
    if (body.indexOf(0) !== -1) {
      throw new DataError(
        `Cannot read "${path}" line ${line}: it contains NUL bytes, so it looks like a binary file, not UTF-8 text`,
        { file: path, line },
      );
    }
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      throw new DataError(
        `Cannot read "${path}" line ${line}: it is not valid UTF-8 (a binary file or another encoding)`,
        { file: path, line },
      );
    }
    return { fields: text.split("\t"), line };
  };

  try {
    while (true) {
      const n = await file.read(chunk);
      if (n === null) break;
      if (n === 0) continue;
      sawBytes = true;
      let data = chunk.subarray(0, n);
      if (carry.length > 0) {
        const joined = new Uint8Array(carry.length + n);
        joined.set(carry);
        joined.set(data, carry.length);
        data = joined;
      }
      let pos = 0;
      while (true) {
        const nl = data.indexOf(NEWLINE, pos);
        if (nl === -1) break;
        yield decodeLine(data.subarray(pos, nl));
        pos = nl + 1;
      }
      // Copy the unfinished line: `chunk` is overwritten by the next read.
      carry = data.slice(pos);
      if (carry.length > maxLineBytes) {
        throw new DataError(
          `Cannot read "${path}" line ${
            line + 1
          }: the line is longer than ${maxLineBytes} bytes, so the file looks binary`,
          { file: path, line: line + 1 },
        );
      }
    }
    if (!sawBytes) {
      throw new DataError(`Cannot read "${path}": the file is empty`, { file: path });
    }
    if (carry.length > 0) yield decodeLine(carry);
  } finally {
    file.close();
  }
}
