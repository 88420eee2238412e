/**
 * Seeded fuzzing of the data readers: GLUE TSVs of six layouts (header or not, BOM, pairs,
 * scores, QQP's short rows) and the binary feature cache (bytes, and header JSON with the
 * checksum recomputed so that the checks behind it are reached). Every case must load or end
 * in a `DataError` naming the file; a corrupt cache met by `loadGlueFeatures` is rebuilt,
 * leaving no temporary file behind.
 */
import assert from "node:assert/strict";
import { crc32 } from "./_crc32.ts";
import { loadGlueFeatures } from "./cache.ts";
import { decodeFeatureCache, encodeFeatureCache, featureCacheName } from "./cache_format.ts";
import { DataError } from "./data_error.ts";
import { buildGlueFeatures } from "./features.ts";
import { loadGlueExamples } from "./glue.ts";
import { evalBatches } from "./loader.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { fuzz, leftovers, mutateBytes, mutateJsonText, ownError } from "../../tests/_util/fuzz.ts";
import type { Rng } from "../../tests/_util/rng.ts";

const TOKENIZER = BertTokenizer.fromVocab(
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "dog", "ran", "a", ".", "##s"],
  { doLowerCase: true },
);

/** Small valid train files, in each task's GLUE layout. */
const TRAIN: Record<string, { folder: string; text: string }> = {
  "cola": { folder: "CoLA", text: "gj04\t1\t\tThe cat sat.\nclc95\t0\t*\tCat the sat.\n" },
  "sst-2": { folder: "SST-2", text: "sentence\tlabel\nthe cat sat\t1\na dog ran\t0\n" },
  "mrpc": {
    folder: "MRPC",
    text:
      "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t1\t2\tThe cat sat.\tA cat sat.\r\n",
  },
  "sts-b": {
    folder: "STS-B",
    text:
      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n" +
      "0\tmain\tx\t2012\t1\tnone\tnone\tA cat sat.\tThe cat sat.\t4.250\n",
  },
  "qqp": {
    folder: "QQP",
    text: "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\tcat?\tdog?\t0\n2\t3\n",
  },
  "rte": {
    folder: "RTE",
    text: "index\tsentence1\tsentence2\tlabel\n0\tThe cat sat.\tA cat sat.\tentailment\n" +
      "1\tA dog ran.\tThe cat sat.\tnot_entailment\n",
  },
};

Deno.test("fuzz: GLUE TSVs of six layouts load or give DataError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const tasks = Object.keys(TRAIN);
  let task = tasks[0];
  try {
    for (const t of tasks) await Deno.mkdir(`${dir}/${TRAIN[t].folder}`);
    await fuzz({
      name: "GLUE train.tsv",
      seed: 41,
      cases: 3000,
      make: (rng, i) => {
        task = tasks[i % tasks.length];
        const bytes = new TextEncoder().encode(TRAIN[task].text);
        return Deno.writeFile(`${dir}/${TRAIN[task].folder}/train.tsv`, mutateBytes(bytes, rng));
      },
      read: async () => {
        await loadGlueExamples({ dataDir: dir, task, split: "train" });
        await buildGlueFeatures({
          dataDir: dir,
          task,
          taskId: 0,
          split: "train",
          tokenizer: TOKENIZER,
          maxSeqLength: 8,
        });
      },
      accept: (e) => ownError([DataError], `${dir}/${TRAIN[task].folder}/train.tsv`)(e),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A cache file with its header JSON mutated and its length and checksum made right again. */
function mutateCacheHeader(bytes: Uint8Array, rng: Rng): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const h = view.getUint32(12, true);
  const json = mutateJsonText(new TextDecoder().decode(bytes.subarray(16, 16 + h)).trimEnd(), rng);
  const h2 = Math.ceil(json.length / 4) * 4;
  const body = bytes.subarray(16 + h, bytes.length - 4);
  const out = new Uint8Array(16 + h2 + body.length + 4);
  out.set(bytes.subarray(0, 12));
  const v2 = new DataView(out.buffer);
  v2.setUint32(12, h2, true);
  out.fill(0x20, 16, 16 + h2);
  out.set(json, 16);
  out.set(body, 16 + h2);
  // Arrays too, sometimes: an edited file whose checksum was recomputed.
  if (rng.int(2) === 0 && body.length > 0) out[16 + h2 + rng.int(body.length)] = rng.int(256);
  v2.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

Deno.test("fuzz: feature caches decode to usable features or give DataError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const t of ["rte", "sts-b"]) await Deno.mkdir(`${dir}/${TRAIN[t].folder}`);
    for (const [t, seed] of [["rte", 42], ["sts-b", 43]] as const) {
      await Deno.writeTextFile(`${dir}/${TRAIN[t].folder}/train.tsv`, TRAIN[t].text);
      const set = await buildGlueFeatures({
        dataDir: dir,
        task: t,
        taskId: 1,
        split: "train",
        tokenizer: TOKENIZER,
        maxSeqLength: 8,
      });
      const original = encodeFeatureCache(set);
      const file = `${dir}/${featureCacheName(set.key)}`;
      let bytes = original;
      await fuzz({
        name: `${t} feature cache`,
        seed,
        cases: 3000,
        make: (rng) => {
          bytes = rng.int(2) === 0 ? mutateBytes(original, rng) : mutateCacheHeader(original, rng);
        },
        read: () => {
          const got = decodeFeatureCache(bytes, { file, expected: set.key });
          for (const batch of evalBatches(got, 2)) assert.ok(batch.seqLen <= 8);
        },
        accept: ownError([DataError], file),
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: loadGlueFeatures rebuilds a corrupt cache and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir(), cache = `${dir}/cache`;
  try {
    await Deno.mkdir(`${dir}/RTE`);
    await Deno.writeTextFile(`${dir}/RTE/train.tsv`, TRAIN.rte.text);
    const options = {
      dataDir: dir,
      task: "rte",
      taskId: 0,
      split: "train",
      tokenizer: TOKENIZER,
      maxSeqLength: 8,
      cacheDir: cache,
    };
    const first = await loadGlueFeatures(options);
    const original = await Deno.readFile(first.cacheFile);
    await fuzz({
      name: "cache rebuilt by loadGlueFeatures",
      seed: 44,
      cases: 300,
      make: (rng) => Deno.writeFile(first.cacheFile, mutateBytes(original, rng)),
      read: async () => {
        const got = await loadGlueFeatures(options);
        assert.deepEqual(got.features.inputIds, first.features.inputIds);
      },
      accept: () => false,
      after: () => assert.deepEqual(leftovers(cache), []),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
