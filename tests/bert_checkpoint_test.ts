/**
 * Checkpoints end to end: HF BERT folders load into the model from either weight file, and a
 * model saved by camtl reloads bit-identical with exactly the HF key set in its header.
 */
import assert from "node:assert/strict";
import { loadStateDict as readWeights, readTorchBin } from "../lib/io/checkpoint.ts";
import { readBertConfig } from "../lib/io/config.ts";
import { readSafetensors, readSafetensorsHeader } from "../lib/io/safetensors.ts";
import { BertModel } from "../lib/nn/bert/model.ts";
import { loadModelWeights, readModelWeights } from "../lib/nn/state_dict.ts";
import { saveModel } from "../lib/train/checkpoint.ts";
import { bertConfigToJson } from "../lib/io/config.ts";
import { gpuTest } from "./_util/gpu.ts";
import { dataPath, hasData } from "./_util/data.ts";

const TINY = new URL("./fixtures/tiny_bert/", import.meta.url).pathname;

gpuTest("a saved model reloads bit-identical and lists exactly the HF key set", async (gpu) => {
  const config = await readBertConfig(`${TINY}config.json`);
  const model = new BertModel(config).materialize(gpu, 7);
  const dir = await Deno.makeTempDir();
  await saveModel(dir, model, bertConfigToJson(config));
  const header = await readSafetensorsHeader(`${dir}/model.safetensors`);
  const keys = [...header.entries.keys()].sort();
  const expected = model.namedParameters().map(([k]) => k).sort();
  assert.deepEqual(keys, expected);
  const again = new BertModel(await readBertConfig(`${dir}/config.json`)).materialize(gpu, 8);
  loadModelWeights(again, (await readWeights(dir)).stateDict);
  const a = await readModelWeights(model), b = await readModelWeights(again);
  for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, k);
  model.dispose();
  again.dispose();
  await Deno.remove(dir, { recursive: true });
});

for (const name of ["tiny-bert-camphr-base", "tiny-bert-camphr-ner"]) {
  gpuTest(`${name} loads into BertModel identically from .bin and .safetensors`, async (gpu) => {
    if (!hasData(name)) return;
    const dir = dataPath(name);
    const config = await readBertConfig(`${dir}/config.json`);
    const fromBin = new BertModel(config).materialize(gpu, 1);
    const fromSt = new BertModel(config).materialize(gpu, 2);
    // The NER checkpoint has no pooler; its classifier is reported unused, not an error.
    const options = { optionalPrefix: "bert.", allowMissing: [/^pooler\./] };
    const r1 = loadModelWeights(fromBin, await readTorchBin(`${dir}/pytorch_model.bin`), options);
    const r2 = loadModelWeights(
      fromSt,
      (await readSafetensors(`${dir}/model.safetensors`)).stateDict,
      options,
    );
    assert.deepEqual(r1, r2);
    if (name.endsWith("ner")) {
      assert.deepEqual(r1.unused.sort(), ["classifier.bias", "classifier.weight"]);
      assert.ok(r1.missing.every((k) => k.startsWith("pooler.")));
    }
    const a = await readModelWeights(fromBin), b = await readModelWeights(fromSt);
    for (const k of r1.loaded) assert.deepEqual(a.get(k)!.data, b.get(k)!.data, k);
    fromBin.dispose();
    fromSt.dispose();
  });
}
