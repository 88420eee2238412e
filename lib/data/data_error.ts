/**
 * The error every data-file problem raises: a missing folder, an empty or binary file, a
 * malformed row, a bad label, a corrupt cache. The message names the file and, where there is
 * one, the line, so that the fix can be found without a debugger.
 *
 * @module
 */

/** Where in a file a {@linkcode DataError} happened. */
export interface DataErrorLocation {
  /** The file the problem is in, as the caller named it. */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
}

/**
 * A problem with input data (GLUE files, feature caches), as opposed to a programming error.
 *
 * @example Catching a data problem
 * ```ts
 * import { DataError } from "./data_error.ts";
 * const err = new DataError('Cannot read "dev.tsv" line 3: expected 4 columns, found 3', {
 *   file: "dev.tsv",
 *   line: 3,
 * });
 * if (!(err instanceof DataError) || err.line !== 3) throw new Error("unexpected");
 * ```
 */
export class DataError extends Error {
  /** The file the problem is in, if any. */
  readonly file?: string;
  /** The 1-based line in `file`, if any. */
  readonly line?: number;

  /**
   * Creates the error.
   * @param message A "Cannot <action> <subject>: <state>" sentence naming file and line.
   * @param location The file and line, kept as fields for programs that handle the error.
   */
  constructor(message: string, location: DataErrorLocation = {}) {
    super(message);
    this.name = "DataError";
    this.file = location.file;
    this.line = location.line;
  }
}
