/**
 * One run per output folder: `<output_dir>/.camtl.lock` holds the pid, host and start time of
 * the run writing there, under an exclusive advisory lock (`flock`) that the kernel releases
 * when that process ends, however it ends. A second run into a folder whose lock is held is
 * refused with the holder's pid; a lock file left by a killed run (its lock no longer held) is
 * taken over, and the caller is told whose it was.
 *
 * @module
 */

import { hostname } from "node:os";

/** The lock file's name inside the output folder. */
export const LOCK_FILE = ".camtl.lock";

/** What the lock file records about its holder. */
export interface LockHolder {
  /** The holder's process id. */
  pid: number;
  /** The machine it runs on. */
  hostname: string;
  /** ISO time the run took the lock. */
  started: string;
}

/** Another live run holds the output folder. */
export class OutputLockedError extends Error {
  /** The holder as its lock file records it (null when unreadable). */
  readonly holder: LockHolder | null;

  /** Makes the error. @param dir the output folder @param holder its lock file, if readable */
  constructor(dir: string, holder: LockHolder | null) {
    const who = holder
      ? `run pid ${holder.pid} on ${holder.hostname} (started ${holder.started})`
      : "another run";
    super(
      `Cannot write to --output_dir "${dir}": ${who} is writing into it (lock ` +
        `"${dir}/${LOCK_FILE}"); wait for it to finish, or choose another folder`,
    );
    this.name = "OutputLockedError";
    this.holder = holder;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text);
    if (Number.isSafeInteger(v?.pid) && typeof v?.hostname === "string") {
      return { pid: v.pid, hostname: v.hostname, started: String(v.started ?? "?") };
    }
  } catch {
    // an empty or torn file: its holder is unknown
  }
  return null;
}

async function readAll(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    chunks.push(buf.slice(0, n));
    if (chunks.length > 16) break; // a lock file is a line of JSON; never read a huge one
  }
  const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
  return new TextDecoder().decode(bytes);
}

/** A held output-folder lock; `release()` it when the run ends. */
export class OutputLock {
  readonly path: string;
  /** The stale holder this lock was taken over from, if any. */
  readonly tookOverFrom: LockHolder | null;
  #file: Deno.FsFile | null;

  private constructor(path: string, file: Deno.FsFile, tookOverFrom: LockHolder | null) {
    this.path = path;
    this.#file = file;
    this.tookOverFrom = tookOverFrom;
  }

  /**
   * Takes the lock of `dir` (created when missing).
   *
   * @param onNote called with one line when a stale lock is taken over
   * @throws {OutputLockedError} when a live run holds it
   */
  static async acquire(dir: string, onNote?: (line: string) => void): Promise<OutputLock> {
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${LOCK_FILE}`;
    for (let attempt = 0;; attempt++) {
      const file = await Deno.open(path, { read: true, write: true, create: true });
      if (!(await file.tryLock(true))) {
        const holder = parseHolder(await readAll(file));
        file.close();
        throw new OutputLockedError(dir, holder);
      }
      // The holder may have removed the file between our open and our lock: then this lock is
      // on a file nobody else will open; start again on the one at `path`.
      const [held, named] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
      if (named === null || named.ino !== held.ino) {
        file.close();
        if (attempt < 8) continue;
        throw new OutputLockedError(dir, null);
      }
      const previous = parseHolder(await readAll(file));
      const stale = previous && previous.pid !== Deno.pid ? previous : null;
      const me: LockHolder = {
        pid: Deno.pid,
        hostname: hostname(),
        started: new Date().toISOString(),
      };
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      await file.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
      await file.syncData();
      if (stale) {
        onNote?.(
          `Taking over the lock of "${dir}" from run pid ${stale.pid} on ${stale.hostname} ` +
            `(started ${stale.started}): that process has ended without releasing it`,
        );
      }
      return new OutputLock(path, file, stale);
    }
  }

  /**
   * Throws when a live run holds `dir`'s lock; creates nothing (for checks that come before a
   * run decides to write).
   *
   * @throws {OutputLockedError} naming the holder
   */
  static async assertFree(dir: string): Promise<void> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(`${dir}/${LOCK_FILE}`, { read: true });
    } catch {
      return; // no lock file (or no folder): nobody holds it
    }
    try {
      if (await file.tryLock(true)) {
        await file.unlock();
        return;
      }
      throw new OutputLockedError(dir, parseHolder(await readAll(file)));
    } finally {
      file.close();
    }
  }

  /** Removes the lock file and releases the lock. Safe to call twice. */
  async release(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = null;
    await Deno.remove(this.path).catch(() => {});
    await file.unlock().catch(() => {});
    file.close();
  }
}
