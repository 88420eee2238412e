/**
 * Test helpers for the data readers: files in a temporary folder removed at exit, JSON lines,
 * gzip, and an assertion that a promise fails with a one-line `DataError`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DataError } from "./data_error.ts";

const dir = Deno.makeTempDirSync({ prefix: "camtl-readers-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** Writes `content` to `name` in the temporary folder and returns its path. */
export async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = `${dir}/${name}`;
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/** One JSON object per line. */
export const jsonl = (rows: unknown[]): string =>
  rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** `text` gzip-compressed. */
export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Asserts that `p` rejects with a one-line `DataError` matching `pattern` (and at `line`). */
export async function rejectsData(p: Promise<unknown>, pattern: RegExp, line?: number) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "one line");
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}
