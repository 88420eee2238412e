/**
 * File helpers shared by the readers and writers: exact positioned reads and atomic writes
 * (temporary file in the same folder, then rename).
 *
 * @module
 */

import { CheckpointError } from "./errors.ts";

/**
 * Read exactly `length` bytes at `offset`. The caller has already checked that the range lies
 * inside the file, so a short read means the file changed or is truncated.
 */
export async function readExactAt(
  file: Deno.FsFile,
  range: { offset: number; length: number },
  path: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(range.length);
  await file.seek(range.offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < range.length) {
    const n = await file.read(out.subarray(done));
    if (n === null) {
      throw new CheckpointError(
        `Cannot read "${path}": file ends at byte ${range.offset + done}, ` +
          `expected ${range.length} bytes from ${range.offset}`,
        { file: path },
      );
    }
    done += n;
  }
  return out;
}

/** Write all of `bytes` to `file`. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Folder part of a path ("." when there is none). */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/** Last segment of a path. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

let counter = 0;

/** A fresh temporary name in the same folder as `path`, so that the rename stays atomic. */
export function tempPathBeside(path: string): string {
  counter = (counter + 1) % 1e9;
  const tag = `${Deno.pid}.${Date.now().toString(36)}.${counter}`;
  return `${dirname(path)}/.${basename(path)}.${tag}.tmp`;
}

/**
 * Write a file atomically: `write` fills a temporary file beside `path`, which is then renamed
 * over `path`. On any failure the temporary file is removed and the error rethrown.
 */
export async function writeFileAtomic(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  const tmp = tempPathBeside(path);
  const file = await Deno.open(tmp, { write: true, createNew: true });
  let closed = false;
  try {
    await write(file);
    await file.syncData();
    file.close();
    closed = true;
    await Deno.rename(tmp, path);
  } catch (e) {
    if (!closed) file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
