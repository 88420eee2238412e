/**
 * Atomic file writes, shared by every writer in camtl (checkpoints, caches, logs, submission
 * files): the data goes to a temporary file beside the target, is synced, and is renamed over
 * it, so a reader or a crash sees the old file or the new one, never half of one. On any
 * failure the temporary file is removed.
 *
 * @module
 */

let counter = 0;

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i) || "/";
}

/** A fresh temporary name in the same folder as `path`, so that the rename stays atomic. */
export function tempPathBeside(path: string): string {
  counter = (counter + 1) % 1e9;
  const tag = `${Deno.pid}.${Date.now().toString(36)}.${counter}`;
  return `${dirname(path)}/.${path.slice(path.lastIndexOf("/") + 1)}.${tag}.tmp`;
}

/** Writes every byte of `bytes` to `file`. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
}

/**
 * Writes a file atomically: `write` fills a temporary file beside `path`, which is then synced
 * and renamed over `path`.
 *
 * @throws whatever `write` or the file system throws; the temporary file is removed first
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

/** Writes `bytes` to `path` atomically. */
export function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(path, (file) => writeAll(file, bytes));
}

/** Writes `text` (UTF-8) to `path` atomically. */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeBytesAtomic(path, new TextEncoder().encode(text));
}
