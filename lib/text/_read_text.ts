/**
 * Small file readers shared by the tokenizer loaders: UTF-8 text, JSON, and "is it there".
 *
 * @module
 */

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a UTF-8 text file; a leading byte-order mark is dropped.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {Deno.errors.NotFound} When the file is missing.
 * @throws {TypeError} When it is not valid UTF-8.
 */
export async function readUtf8(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new TypeError(`Cannot read "${path}": it is not valid UTF-8; re-save it as UTF-8`);
  }
}

/**
 * Reads and parses a UTF-8 JSON file.
 *
 * @param path The file.
 * @returns The parsed value.
 * @throws {SyntaxError} When the text is not JSON; the message names the file.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readUtf8(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse "${path}": ${(error as Error).message}`);
  }
}

/**
 * @param path A file path.
 * @returns Whether a file exists there.
 */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
