import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { DataError } from "./data_error.ts";
import { formatMrpc, GLUE_DOWNLOAD_TASKS, resolveDownloadTasks } from "./download_glue.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("formatMrpc rebuilds GLUE's MRPC train, dev and test files byte for byte", () => {
  if (!hasData("glue/MRPC")) return;
  const read = (name: string) => Deno.readFileSync(dataPath(`glue/MRPC/${name}`));
  const out = formatMrpc(
    read("msr_paraphrase_train.txt"),
    read("msr_paraphrase_test.txt"),
    read("dev_ids.tsv"),
  );
  for (const split of ["train", "dev", "test"] as const) {
    assert.deepEqual(enc(out[split]), read(`${split}.tsv`), `${split}.tsv`);
  }
});

Deno.test("formatMrpc reads lines and strips fields as Python's text mode and str.strip do", () => {
  const header = "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String";
  // CRLF and a lone CR end lines; NBSP and spaces around a row go; the BOM stays in the header.
  const train = enc(
    `${header}\r\n1\t1\t2\tA.\tB.\u00a0 \r0\t3\t4\tC.\tD.\n 1\t5\t6\tE.\tF.`,
  );
  const test = enc(`${header}\n1\t7\t8\tG.\tH.\r\n`);
  const out = formatMrpc(train, test, enc("3\t4\r\n"));
  assert.equal(out.train, `${header}\n1\t1\t2\tA.\tB.\n1\t5\t6\tE.\tF.\n`);
  assert.equal(out.dev, `${header}\n0\t3\t4\tC.\tD.\n`);
  assert.equal(out.test, "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t7\t8\tG.\tH.\n");
  assert.throws(
    () => formatMrpc(enc(`${header}\n1\t2\t3\tonly four\n`), test, enc("")),
    (e: Error) =>
      e instanceof DataError &&
      e.message === 'Cannot read "msr_paraphrase_train.txt" line 2: expected 5 tab-separated ' +
          "fields, found 4",
  );
  assert.throws(() => formatMrpc(Uint8Array.of(0xff, 0xfe), test, enc("")), /not UTF-8 text/);
});

Deno.test("resolveDownloadTasks reads all, the script's names and camtl's, in any case", () => {
  assert.deepEqual(resolveDownloadTasks(["all"]), [...GLUE_DOWNLOAD_TASKS]);
  assert.deepEqual(resolveDownloadTasks(["CoLA,sst-2", "STS", "mrpc", "cola", "AX"]), [
    "CoLA",
    "SST",
    "STS",
    "MRPC",
    "diagnostic",
  ]);
  assert.throws(() => resolveDownloadTasks(["SNLI"]), /Cannot download GLUE task "SNLI": unknown/);
  assert.throws(() => resolveDownloadTasks([","]), /no task named/);
});
