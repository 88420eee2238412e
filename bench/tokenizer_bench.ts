/**
 * Tokenizer throughput on SST-2 train (67,349 sentences, column 0 after the header) with the
 * bert-base-cased vocabulary, the CA-MTL base tokenizer.
 *
 * At load it prints tokens/s once for a cold word cache (a fresh tokenizer) and a warm one
 * (the cache a training run has after its first epoch). `deno bench` then compares the two
 * in group "tokenizer", the warm cache as baseline. Skips visibly when the data is missing.
 *
 * @module
 */

import { dataPath, hasData } from "../tests/_util/data.ts";
import { BertTokenizer } from "../lib/text/tokenizer.ts";
import { readVocabFile } from "../lib/text/vocab.ts";

const SST2 = "glue/SST-2/train.tsv";
const VOCAB = "bert-base-cased/vocab.txt";
const ready = hasData(SST2) && hasData(VOCAB);

/** Column 0 of every row after the header. */
async function readSentences(path: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split("\n").slice(1);
  return lines.filter((line) => line !== "").map((line) => line.replace(/\r$/, "").split("\t")[0]);
}

const sentences = ready ? await readSentences(dataPath(SST2)) : [];
const vocab = ready ? await readVocabFile(dataPath(VOCAB)) : undefined;
const fresh = () => new BertTokenizer(vocab!, { doLowerCase: false });

/** Tokenizes every sentence; returns the WordPiece token count (no special tokens). */
function tokenizeAll(tok: BertTokenizer): number {
  let tokens = 0;
  for (const sentence of sentences) tokens += tok.tokenizeToIds(sentence).length;
  return tokens;
}

if (ready) {
  const cold = fresh();
  let t0 = performance.now();
  const tokens = tokenizeAll(cold);
  const coldMs = performance.now() - t0;
  t0 = performance.now();
  tokenizeAll(cold);
  const warmMs = performance.now() - t0;
  t0 = performance.now();
  cold.encodeBatch(sentences, { maxLength: 128, padToMaxLength: true });
  const encodeMs = performance.now() - t0;
  const rate = (ms: number) => Math.round(tokens / (ms / 1000)).toLocaleString("en-US");
  console.log(
    `tokenizer: SST-2 train, ${sentences.length} sentences, ${tokens} WordPiece tokens ` +
      `(bert-base-cased): cold cache ${rate(coldMs)} tokens/s (${coldMs.toFixed(0)} ms), ` +
      `warm cache ${rate(warmMs)} tokens/s (${warmMs.toFixed(0)} ms), ` +
      `encodeBatch padded to 128 ${encodeMs.toFixed(0)} ms (warm), ` +
      `cold/warm time ratio ${(coldMs / warmMs).toFixed(2)}`,
  );
}

const warm = ready ? fresh() : undefined;
if (warm) tokenizeAll(warm);

Deno.bench({
  group: "tokenizer",
  name: "tokenizeToIds[SST-2 train, bert-base-cased, warm word cache]",
  baseline: true,
  ignore: !ready,
  fn() {
    tokenizeAll(warm!);
  },
});

Deno.bench({
  group: "tokenizer",
  name: "tokenizeToIds[SST-2 train, bert-base-cased, cold word cache]",
  ignore: !ready,
  fn(b) {
    const tok = fresh();
    b.start();
    tokenizeAll(tok);
    b.end();
  },
});

Deno.bench({
  group: "tokenizer",
  name: "encodeBatch[SST-2 train, maxLength=128, padded, warm word cache]",
  ignore: !ready,
  fn() {
    warm!.encodeBatch(sentences, { maxLength: 128, padToMaxLength: true });
  },
});
