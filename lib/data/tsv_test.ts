import assert from "node:assert/strict";
import { readTsv, type TsvRow } from "./tsv.ts";
import { DataError } from "./data_error.ts";

async function withFile<T>(
  bytes: Uint8Array | string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".tsv" });
  try {
    await Deno.writeFile(path, typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

async function rows(path: string, chunkSize?: number): Promise<TsvRow[]> {
  const out: TsvRow[] = [];
  for await (const row of readTsv(path, { chunkSize })) out.push(row);
  return out;
}

Deno.test("readTsv() drops a BOM, accepts CRLF and keeps quotes as text", async () => {
  await withFile('\ufeffh1\th2\r\n"a\tb"c\r\n\t\nlast\tx', async (path) => {
    const got = await rows(path);
    assert.deepEqual(got.map((r) => r.fields), [["h1", "h2"], ['"a', 'b"c'], ["", ""], [
      "last",
      "x",
    ]]);
    assert.deepEqual(got.map((r) => r.line), [1, 2, 3, 4]);
  });
});

Deno.test("readTsv() gives the same rows for any chunk size, lines split across chunks", async () => {
  const text =
    Array.from({ length: 200 }, (_, i) => `${i}\tsentence ${"é".repeat(i % 7)} ${i}`).join("\n") +
    "\n";
  await withFile(text, async (path) => {
    const whole = await rows(path);
    assert.equal(whole.length, 200);
    for (const chunk of [1, 3, 7, 64]) assert.deepEqual(await rows(path, chunk), whole);
  });
});

Deno.test("readTsv() rejects an empty file naming it", async () => {
  await withFile("", async (path) => {
    await assert.rejects(() => rows(path), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.match(err.message, /Cannot read ".*\.tsv": the file is empty/);
      return true;
    });
  });
});

Deno.test("readTsv() rejects NUL bytes and invalid UTF-8 with the line number", async () => {
  const nul = new TextEncoder().encode("a\tb\nc\td\ne\0f\tg\n");
  await withFile(nul, async (path) => {
    await assert.rejects(() => rows(path, 4), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.equal(err.line, 3);
      assert.match(err.message, /line 3: it contains NUL bytes/);
      return true;
    });
  });
  const bad = new Uint8Array([0x61, 0x0a, 0x62, 0x0a, 0xff, 0xfe, 0x41, 0x0a]);
  await withFile(bad, async (path) => {
    await assert.rejects(() => rows(path), /line 3: it is not valid UTF-8/);
  });
});

Deno.test("readTsv() names a missing file", async () => {
  await assert.rejects(() => rows("/nonexistent/x.tsv"), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /Cannot open "\/nonexistent\/x.tsv"/);
    return true;
  });
});
