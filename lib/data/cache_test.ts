import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { loadGlueFeatures, type LoadGlueFeaturesOptions } from "./cache.ts";
import { decodeFeatureCache, encodeFeatureCache, featureCacheName } from "./cache_format.ts";
import { DataError } from "./data_error.ts";
import { buildGlueFeatures, FeatureSet } from "./features.ts";
import { writeGlueFile } from "./_synthetic_glue.ts";

const ready = hasData("glue") && hasData("bert-base-cased");
const tokenizer = ready ? await BertTokenizer.fromFolder(dataPath("bert-base-cased")) : null;

function base(cacheDir: string): LoadGlueFeaturesOptions {
  return {
    dataDir: dataPath("glue"),
    task: "mrpc",
    taskId: 8,
    split: "dev",
    tokenizer: tokenizer!,
    maxSeqLength: 128,
    cacheDir,
  };
}

function assertSameFeatures(a: FeatureSet, b: FeatureSet) {
  assert.deepEqual(a.key, b.key);
  assert.deepEqual(encodeFeatureCache(a), encodeFeatureCache(b));
  assert.deepEqual(a.offsets, b.offsets);
  assert.deepEqual(a.inputIds, b.inputIds);
  assert.deepEqual(a.tokenTypeIds, b.tokenTypeIds);
  assert.deepEqual(a.labels, b.labels);
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test({
  name: "feature cache: a hit is byte-identical to the cold build, for int and float labels",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      for (const task of ["mrpc", "sts-b"]) {
        const opts = { ...base(dir), task };
        const cold = await loadGlueFeatures(opts);
        assert.equal(cold.fromCache, false);
        assert.equal(cold.rebuildReason, "no cache file");
        const warm = await loadGlueFeatures(opts);
        assert.equal(warm.fromCache, true);
        assert.equal(warm.cacheFile, cold.cacheFile);
        assertSameFeatures(warm.features, cold.features);
        assertSameFeatures(warm.features, await buildGlueFeatures(opts));
      }
      assert.ok((await listDir(dir)).every((n) => n.startsWith("cached_dev_")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "feature cache: changing any key part misses, overwriteCache rebuilds",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const first = await loadGlueFeatures(base(dir));
      const variants: Partial<LoadGlueFeaturesOptions>[] = [
        { taskId: 3 },
        { maxSeqLength: 64 },
        { split: "train" },
        { task: "rte", taskId: 8 },
        {
          tokenizer: await BertTokenizer.fromFolder(dataPath("bert-base-cased"), {
            doLowerCase: true,
          }),
        },
      ];
      if (hasData("bert-base-uncased")) {
        variants.push({ tokenizer: await BertTokenizer.fromFolder(dataPath("bert-base-uncased")) });
      }
      const files = new Set([first.cacheFile]);
      for (const v of variants) {
        const got = await loadGlueFeatures({ ...base(dir), ...v });
        assert.equal(got.fromCache, false, JSON.stringify(Object.keys(v)));
        assert.ok(!files.has(got.cacheFile), got.cacheFile);
        files.add(got.cacheFile);
        assert.equal((await loadGlueFeatures({ ...base(dir), ...v })).fromCache, true);
      }
      const again = await loadGlueFeatures({ ...base(dir), overwriteCache: true });
      assert.equal(again.fromCache, false);
      assert.equal(again.rebuildReason, "overwriteCache was set");
      assert.equal((await listDir(dir)).length, files.size);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "feature cache: truncated, corrupted or mislabelled files are rebuilt, never trusted",
  ignore: !ready,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const cold = await loadGlueFeatures(base(dir));
      const good = await Deno.readFile(cold.cacheFile);
      const cases: [string, Uint8Array, RegExp][] = [
        ["killed mid-write", good.slice(0, Math.floor(good.length * 0.6)), /truncated/],
        ["cut inside the header", good.slice(0, 30), /header/],
        ["empty", new Uint8Array(0), /only 0 bytes/],
        [
          "a flipped bit",
          (() => {
            const b = good.slice();
            b[b.length >> 1] ^= 4;
            return b;
          })(),
          /checksum/,
        ],
        ["not a cache", new TextEncoder().encode("index\tsentence\n0\thello\n"), /wrong magic/],
      ];
      for (const [what, bytes, reason] of cases) {
        await Deno.writeFile(cold.cacheFile, bytes);
        const got = await loadGlueFeatures(base(dir));
        assert.equal(got.fromCache, false, what);
        assert.match(got.rebuildReason!, reason, what);
        assertSameFeatures(got.features, cold.features);
        assert.deepEqual(await Deno.readFile(cold.cacheFile), good, `${what}: rewritten`);
      }
      // A valid file under another key's name (task id 3 renamed to 8).
      const other = await loadGlueFeatures({ ...base(dir), taskId: 3 });
      await Deno.copyFile(other.cacheFile, cold.cacheFile);
      const got = await loadGlueFeatures(base(dir));
      assert.equal(got.fromCache, false);
      assert.match(got.rebuildReason!, /"taskId":3.*was asked for/);
      assert.equal(got.features.taskId, 8);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "feature cache: failed builds leave no cache or temporary file, changed sources rebuild",
  ignore: !ready,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const cacheDir = await Deno.makeTempDir();
    try {
      const opts = {
        dataDir,
        task: "rte",
        taskId: 2,
        split: "train",
        tokenizer: tokenizer!,
        maxSeqLength: 32,
        cacheDir,
      };
      const head = "index\tsentence1\tsentence2\tlabel\n";
      await writeGlueFile(
        dataDir,
        "RTE",
        "train.tsv",
        `${head}0\tA cat.\tAn animal.\tentailment\n1\tA dog.\tA cat.\tmaybe\n`,
      );
      await assert.rejects(
        () => loadGlueFeatures(opts),
        (err: unknown) => err instanceof DataError && err.line === 3,
      );
      await writeGlueFile(dataDir, "RTE", "train.tsv", `${head}0\tA cat.\tAn animal.\n`);
      await assert.rejects(
        () => loadGlueFeatures(opts),
        /line 2: expected 4 tab-separated columns, found 3/,
      );
      await assert.rejects(() => loadGlueFeatures({ ...opts, task: "wnli" }), /no folder "WNLI"/);
      assert.deepEqual(await listDir(cacheDir), []);
      await writeGlueFile(
        dataDir,
        "RTE",
        "train.tsv",
        `${head}0\tA cat.\tAn animal.\tentailment\n`,
      );
      assert.equal((await loadGlueFeatures(opts)).features.size, 1);
      assert.equal((await loadGlueFeatures(opts)).fromCache, true);
      await writeGlueFile(
        dataDir,
        "RTE",
        "train.tsv",
        `${head}0\tA cat.\tAn animal.\tentailment\n1\tA dog.\tA cat.\tnot_entailment\n`,
      );
      const rebuilt = await loadGlueFeatures(opts);
      assert.equal(rebuilt.fromCache, false);
      assert.match(rebuilt.rebuildReason!, /source now has/);
      assert.equal(rebuilt.features.size, 2);
      assert.equal((await listDir(cacheDir)).length, 1);
      // A cache folder that cannot be created: the error names the file and the fix.
      await Deno.writeTextFile(`${cacheDir}/not-a-folder`, "");
      await assert.rejects(
        () => loadGlueFeatures({ ...opts, cacheDir: `${cacheDir}/not-a-folder/sub` }),
        /Cannot write feature cache ".*not-a-folder\/sub\/cached_train_rte_task2_len32_cased_.*pass a writable cacheDir/,
      );
    } finally {
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("decodeFeatureCache() round-trips float labels and rejects another key", () => {
  const key = {
    task: "sts-b",
    taskId: 1,
    split: "dev",
    vocabHash: "abc/def",
    doLowerCase: true,
    maxSeqLength: 16,
  };
  assert.equal(featureCacheName(key), "cached_dev_sts-b_task1_len16_uncased_abc_def.features");
  const set = new FeatureSet(key, {
    offsets: new Int32Array([0, 3, 5]),
    inputIds: new Int32Array([101, 9, 102, 101, 102]),
    tokenTypeIds: new Uint8Array([0, 0, 0, 1, 1]),
    labels: new Float32Array([3.8, 0.25]),
    skipped: 2,
    padId: 0,
  });
  const bytes = encodeFeatureCache(set, { sourceBytes: 1234 });
  assert.equal(bytes.length % 4, 0);
  const back = decodeFeatureCache(bytes, { file: "x.features", expected: key, sourceBytes: 1234 });
  assertSameFeatures(back, set);
  assert.equal(back.skipped, 2);
  assert.throws(
    () => decodeFeatureCache(bytes, { file: "x.features", expected: { ...key, maxSeqLength: 32 } }),
    /Cannot use feature cache "x.features": it holds .* but .* was asked for/,
  );
  assert.throws(
    () => decodeFeatureCache(bytes, { file: "x.features", expected: key, sourceBytes: 99 }),
    /1234-byte file/,
  );
});
