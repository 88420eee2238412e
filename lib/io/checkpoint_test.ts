import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { loadStateDict, matchStateDict, readTorchBin, saveSafetensors } from "./checkpoint.ts";
import { CheckpointError } from "./errors.ts";
import { hostTensorFromFloat32, type StateDict } from "./host_tensor.ts";
import { readSafetensors, readSafetensorsHeader } from "./safetensors.ts";

const TINY = ["tiny-bert-camphr-base", "tiny-bert-camphr-ner"];

function assertSameTensors(a: StateDict, b: StateDict, what: string): void {
  deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: key sets differ`);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    equal(u.dtype, t.dtype, `${what}: "${k}" dtype`);
    deepEqual(u.shape, t.shape, `${what}: "${k}" shape`);
    deepEqual(u.data, t.data, `${what}: "${k}" bytes`);
  }
}

for (const name of TINY) {
  Deno.test({
    name: `${name}: pytorch_model.bin and model.safetensors hold identical tensors`,
    ignore: !hasData(name),
    async fn() {
      const bin = await readTorchBin(dataPath(`${name}/pytorch_model.bin`));
      const st = (await readSafetensors(dataPath(`${name}/model.safetensors`))).stateDict;
      assertSameTensors(bin, st, name);
      ok(bin.size > 20);
    },
  });

  Deno.test({
    name: `${name}: save then reload is bit-identical and the header keys equal the state dict`,
    ignore: !hasData(name),
    async fn() {
      const { stateDict, file } = await loadStateDict(dataPath(name));
      ok(file.endsWith("model.safetensors"), "safetensors is preferred");
      const dir = await Deno.makeTempDir();
      try {
        await saveSafetensors(`${dir}/model.safetensors`, stateDict);
        const header = await readSafetensorsHeader(`${dir}/model.safetensors`);
        deepEqual(new Set(header.entries.keys()), new Set(stateDict.keys()));
        deepEqual(header.metadata, { format: "pt" });
        const back = await loadStateDict(dir);
        assertSameTensors(stateDict, back.stateDict, `${name} round trip`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "loadStateDict() falls back to pytorch_model.bin and names the folder when both lack",
  ignore: !hasData(TINY[1]),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.copyFile(dataPath(`${TINY[1]}/pytorch_model.bin`), `${dir}/pytorch_model.bin`);
      const { stateDict, file } = await loadStateDict(dir);
      equal(file, `${dir}/pytorch_model.bin`);
      equal(stateDict.get("classifier.weight")?.shape.join(), "9,16");
      await Deno.remove(`${dir}/pytorch_model.bin`);
      await assertRejectsCheckpoint(loadStateDict(dir), /neither model.safetensors nor/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function assertRejectsCheckpoint(p: Promise<unknown>, pattern: RegExp) {
  try {
    await p;
  } catch (e) {
    ok(e instanceof CheckpointError && pattern.test(e.message), `unexpected error ${e}`);
    return;
  }
  throw new Error("expected a CheckpointError");
}

const t = (...shape: number[]) =>
  hostTensorFromFloat32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));

function bertLikeCheckpoint(prefix: string): StateDict {
  return new Map([
    [`${prefix}embeddings.word_embeddings.weight`, t(10, 4)],
    [`${prefix}embeddings.position_ids`, { dtype: "I64", shape: [1, 8], data: new Uint8Array(64) }],
    [`${prefix}embeddings.LayerNorm.weight`, t(4)],
    [`${prefix}encoder.layer.0.output.dense.weight`, t(4, 16)],
    ["classifier.weight", t(3, 4)],
    ["classifier.bias", t(3)],
  ]);
}

const MODEL = new Map<string, number[]>([
  ["bert.embeddings.word_embeddings.weight", [10, 4]],
  ["bert.embeddings.LayerNorm.weight", [4]],
  ["bert.encoder.layer.0.output.dense.weight", [4, 16]],
]);

Deno.test("matchStateDict() maps keys with and without the bert. prefix", () => {
  for (const prefix of ["bert.", ""]) {
    const loaded = bertLikeCheckpoint(prefix);
    const r = matchStateDict(MODEL, loaded, { optionalPrefix: "bert." });
    deepEqual([...r.matched.keys()], [...MODEL.keys()], `checkpoint prefix "${prefix}"`);
    equal(
      r.matched.get("bert.embeddings.LayerNorm.weight"),
      loaded.get(`${prefix}embeddings.LayerNorm.weight`),
    );
    deepEqual(r.unused, ["classifier.weight", "classifier.bias"], "heads are unused, not errors");
    deepEqual(r.missing, []);
  }
  // The other direction: a model without the prefix, a checkpoint with it.
  const bare = new Map([...MODEL].map(([k, s]) => [k.slice(5), s]));
  const r = matchStateDict(bare, bertLikeCheckpoint("bert."), { optionalPrefix: "bert." });
  equal(r.matched.size, 3);
});

Deno.test("matchStateDict() throws one CheckpointError listing missing and mis-shaped keys", () => {
  const loaded = bertLikeCheckpoint("");
  loaded.delete("embeddings.LayerNorm.weight");
  loaded.set("encoder.layer.0.output.dense.weight", t(16, 4));
  throws(
    () => matchStateDict(MODEL, loaded, { optionalPrefix: "bert.", file: "/m/model.safetensors" }),
    (e) => {
      ok(e instanceof CheckpointError);
      deepEqual(e.missing, ["bert.embeddings.LayerNorm.weight"]);
      deepEqual(e.mismatched, [{
        key: "bert.encoder.layer.0.output.dense.weight",
        expected: [4, 16],
        found: [16, 4],
      }]);
      deepEqual(e.unexpected, ["classifier.weight", "classifier.bias"]);
      equal(e.file, "/m/model.safetensors");
      ok(!e.message.includes("\n"), "one line");
      ok(e.message.includes(`1 missing ("bert.embeddings.LayerNorm.weight")`), e.message);
      ok(e.message.includes("expected [4,16] found [16,4]"), e.message);
      ok(e.message.includes(`"/m/model.safetensors"`), e.message);
      return true;
    },
  );
});

Deno.test("matchStateDict() allows listed missing keys and reports all when not strict", () => {
  const model = new Map([...MODEL, ["bert.task_embedding.weight", [2, 4]]]);
  const r = matchStateDict(model, bertLikeCheckpoint(""), {
    optionalPrefix: "bert.",
    allowMissing: [/task_embedding/],
    ignore: [/^classifier\./],
  });
  deepEqual(r.missing, ["bert.task_embedding.weight"]);
  deepEqual(r.unused, []);
  const loose = matchStateDict(
    new Map([["x", [1]], ["classifier.bias", [4]]]),
    bertLikeCheckpoint(""),
    {
      strict: false,
    },
  );
  deepEqual(loose.missing, ["x"]);
  deepEqual(loose.mismatched, [{ key: "classifier.bias", expected: [4], found: [3] }]);
});

Deno.test("matchStateDict() reads legacy LayerNorm.gamma/beta names", () => {
  const loaded: StateDict = new Map([["bert.embeddings.LayerNorm.gamma", t(4)]]);
  const r = matchStateDict(new Map([["embeddings.LayerNorm.weight", [4]]]), loaded, {
    optionalPrefix: "bert.",
  });
  equal(
    r.matched.get("embeddings.LayerNorm.weight"),
    loaded.get("bert.embeddings.LayerNorm.gamma"),
  );
});

Deno.test("CheckpointError truncates long key lists", () => {
  const missing = Array.from({ length: 12 }, (_, i) => `k${i}`);
  const e = new CheckpointError("Cannot load x", { missing });
  ok(e.message.endsWith(`12 missing ("k0", "k1", "k2", "k3", "k4" and 7 more)`), e.message);
  equal(e.missing.length, 12);
});
