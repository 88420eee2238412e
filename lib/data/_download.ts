/**
 * A download that survives a flaky network: the bytes go to `<dest>.part`, a failed attempt is
 * retried after a growing pause and resumed where it stopped (an HTTP `Range` request, used
 * only when the server answers 206 from the right offset), and the file is renamed to `dest`
 * only once every byte the server announced is there. A `.part` left by an earlier process is
 * resumed the same way.
 *
 * @module
 */

import { DataError } from "./data_error.ts";

/** Options of {@linkcode downloadFile}. */
export interface DownloadOptions {
  /** Tries in all (default 4). */
  attempts?: number;
  /** Pause before the second try, doubled before each later one (default 500 ms). */
  retryDelayMs?: number;
  /** Bytes so far and the total (-1 while unknown). */
  onProgress?: (done: number, total: number) => void;
  /** Told before each retry, with the reason. */
  onRetry?: (attempt: number, reason: string) => void;
}

/** A failure that another try cannot mend (HTTP 404, a host the permissions leave out). */
class Final extends Error {}

/** The size of `path`, or -1 when it does not exist. */
function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return -1;
    throw e;
  }
}

/** One try: continues `part` from its current size; returns once it holds the whole file. */
async function attempt(url: string, part: string, options: DownloadOptions): Promise<void> {
  let offset = Math.max(0, sizeOf(part));
  let res: Response;
  try {
    res = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new Final(`network access to "${new URL(url).host}" is not granted (--allow-net)`);
    }
    throw e;
  }
  let total = -1;
  if (res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    if (m === null || Number(m[1]) !== offset) {
      await res.body?.cancel();
      Deno.truncateSync(part, 0); // a range the download cannot continue from: start over
      throw new Error(`the server answered a resume with "${res.headers.get("content-range")}"`);
    }
    total = Number(m[2]);
  } else if (res.status === 416 && offset > 0) {
    await res.body?.cancel();
    const announced = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
    if (announced !== null && Number(announced[1]) === offset) return; // already complete
    Deno.truncateSync(part, 0);
    throw new Error("the partial file is longer than the server's");
  } else if (res.ok) {
    offset = 0; // no range support: the whole file again
    const length = res.headers.get("content-length");
    if (length !== null) total = Number(length);
  } else {
    await res.body?.cancel();
    const why = `HTTP ${res.status} ${res.statusText}`.trim();
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Error(why);
    throw new Final(why);
  }
  const file = Deno.openSync(part, { write: true, create: true });
  try {
    file.truncateSync(offset);
    file.seekSync(offset, Deno.SeekMode.Start);
    let done = offset;
    options.onProgress?.(done, total);
    for await (const chunk of res.body ?? []) {
      for (let w = 0; w < chunk.length;) w += file.writeSync(chunk.subarray(w));
      done += chunk.length;
      options.onProgress?.(done, total);
    }
    if (total >= 0 && done !== total) {
      throw new Error(`the connection closed after ${done} of ${total} bytes`);
    }
  } finally {
    file.close();
  }
}

/** A failure in one line: a fetch error's cause, without the address the caller names anyway. */
function describe(e: Error): string {
  const text = e.cause instanceof Error ? e.cause.message : e.message;
  return text.replace(/error sending request for url \(.*?\): /, "").replace(/\s*\n\s*/g, " ");
}

/**
 * Downloads `url` to `dest`, resuming `<dest>.part` and retrying as the module describes.
 * Does nothing when `dest` exists.
 *
 * @throws {DataError} after the last try, or at once for an answer no retry can change; the
 *   message names the address and the reason, and the `.part` file is kept for the next run
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<void> {
  if (sizeOf(dest) >= 0) return;
  const part = `${dest}.part`;
  const attempts = options.attempts ?? 4;
  let delay = options.retryDelayMs ?? 500;
  for (let i = 1;; i++) {
    try {
      await attempt(url, part, options);
      Deno.renameSync(part, dest);
      return;
    } catch (e) {
      const reason = describe(e as Error);
      if (e instanceof Final || i >= attempts) {
        const tries = e instanceof Final ? "" : ` (${i} tries)`;
        throw new DataError(`Cannot download "${url}": ${reason}${tries}`, { file: dest });
      }
      options.onRetry?.(i, reason);
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
}
