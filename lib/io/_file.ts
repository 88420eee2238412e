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

export { writeAll, writeFileAtomic } from "./atomic.ts";
