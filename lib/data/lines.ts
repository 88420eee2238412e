/**
 * Streaming line reader shared by the data readers (GLUE's TSV, SuperGLUE's and MRQA's JSON
 * lines, CoNLL columns): a file, optionally gzip-compressed, is read in chunks and split into
 * lines at the byte level, so memory stays bounded by the chunk size plus the longest line, and
 * each line is decoded on its own, so that a NUL byte or invalid UTF-8 is reported with the
 * exact line it is on. A UTF-8 byte-order mark at the start is dropped and `\r\n` line ends are
 * accepted.
 *
 * @module
 */

import { DataError } from "./data_error.ts";

/** One line of a text file, without its line end. */
export interface TextLine {
  /** The decoded text. */
  text: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
}

/** Options for {@linkcode readLines}. */
export interface ReadLinesOptions {
  /** Bytes read per chunk from an uncompressed file (default 1 MiB). */
  chunkSize?: number;
  /** Longest line accepted, in bytes (default 16 MiB); a longer one is reported as binary. */
  maxLineBytes?: number;
  /** Decompress with gzip first; by default true exactly when the name ends in `.gz`. */
  gzip?: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

async function* fileChunks(file: Deno.FsFile, chunkSize: number): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(chunkSize);
  while (true) {
    const n = await file.read(chunk);
    if (n === null) return;
    if (n > 0) yield chunk.subarray(0, n);
  }
}

async function* gunzipChunks(file: Deno.FsFile, path: string): AsyncGenerator<Uint8Array> {
  const reader = file.readable.pipeThrough(new DecompressionStream("gzip")).getReader();
  try {
    while (true) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        throw new DataError(
          `Cannot read "${path}": it is not a valid gzip file (${
            (err as Error).message
          }); decompress it or give the plain file`,
          { file: path },
        );
      }
      if (step.done) return;
      if (step.value.length > 0) yield step.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * Yields the lines of a text file one at a time, with their 1-based line numbers.
 *
 * A final line end does not produce an empty line; a blank line in the middle yields `""`.
 *
 * @param path The file to read (`.gz` files are decompressed unless `gzip: false`).
 * @param options Chunk size, line-length limit and compression.
 * @returns The lines, in file order.
 * @throws {DataError} When the file is empty, holds NUL bytes or invalid UTF-8 (naming the
 * line), has a line longer than `maxLineBytes`, is not valid gzip, or cannot be opened.
 *
 * @example Reading a small file
 * ```ts
 * import { readLines } from "./lines.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "\ufeffa\r\n\nb");
 * const lines = [];
 * for await (const l of readLines(path)) lines.push(l.text);
 * if (lines.join("|") !== "a||b") throw new Error(lines.join("|"));
 * await Deno.remove(path);
 * ```
 */
export async function* readLines(
  path: string,
  options: ReadLinesOptions = {},
): AsyncGenerator<TextLine> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  const maxLineBytes = options.maxLineBytes ?? 16 << 20;
  if (!(chunkSize >= 1)) throw new RangeError(`Cannot read "${path}": chunkSize is ${chunkSize}`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw new DataError(`Cannot open "${path}": ${(err as Error).message}`, { file: path });
  }
  const gzip = options.gzip ?? path.endsWith(".gz");
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let carry: Uint8Array = new Uint8Array(0);
  let line = 0;
  let sawBytes = false;
  let first = true;

  const decodeLine = (bytes: Uint8Array): TextLine => {
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
    try {
      return { text: decoder.decode(body), line };
    } catch {
      throw new DataError(
        `Cannot read "${path}" line ${line}: it is not valid UTF-8 (a binary file or another encoding)`,
        { file: path, line },
      );
    }
  };

  try {
    const chunks = gzip ? gunzipChunks(file, path) : fileChunks(file, chunkSize);
    for await (const chunk of chunks) {
      sawBytes = true;
      let data = chunk;
      if (carry.length > 0) {
        data = new Uint8Array(carry.length + chunk.length);
        data.set(carry);
        data.set(chunk, carry.length);
      }
      let pos = 0;
      while (true) {
        const nl = data.indexOf(NEWLINE, pos);
        if (nl === -1) break;
        yield decodeLine(data.subarray(pos, nl));
        pos = nl + 1;
      }
      // Copy the unfinished line: a file's chunk buffer is overwritten by the next read.
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
    try {
      file.close();
    } catch {
      // The gzip stream closes the file itself when it is read to the end.
    }
  }
}
