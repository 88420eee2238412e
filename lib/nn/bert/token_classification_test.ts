import assert from "node:assert/strict";
import { readSafetensors } from "../../io/safetensors.ts";
import { type HostTensor, toFloat32 } from "../../io/host_tensor.ts";
import { readModelWeights } from "../state_dict.ts";
import { BertModel } from "./model.ts";
import { BertForTokenClassification } from "./token_classification.ts";
import { gpuTest } from "../../../tests/_util/gpu.ts";
import { dataPath, hasData, randomHostBatch } from "../../../tests/_util/data.ts";
import { relMaxError } from "../../../tests/_util/allclose.ts";

const NER = "tiny-bert-camphr-ner";
const FIXTURE = new URL("../../../tests/fixtures/bert_ner/reference.safetensors", import.meta.url)
  .pathname;
const TINY = new URL("../../../tests/fixtures/tiny_bert", import.meta.url).pathname;

const ints = (t: HostTensor) => new Int32Array(t.data.slice().buffer);

gpuTest(
  "the shared NER checkpoint loads with its classifier; logits and tags match PyTorch",
  async (gpu) => {
    if (!hasData(NER)) return;
    const { model, report } = await BertForTokenClassification.fromPretrained(gpu, dataPath(NER));
    assert.equal(model.training, false, "fromPretrained returns eval mode");
    assert.equal(model.numLabels, 9);
    assert.deepEqual(model.labelNames?.slice(0, 3), ["O", "B-MISC", "I-MISC"]);
    assert.ok(report.loaded.includes("classifier.weight"));
    assert.deepEqual(report.missing, [], "no pooler is expected, none missing");
    assert.deepEqual(report.unused, []);
    const ref = (await readSafetensors(FIXTURE)).stateDict;
    const [B, T] = ref.get("input_ids")!.shape;
    const out = model.forward({
      inputIds: ints(ref.get("input_ids")!),
      tokenTypeIds: ints(ref.get("token_type_ids")!),
      attentionMask: ints(ref.get("attention_mask")!),
      batchSize: B,
      seqLength: T,
      labels: ints(ref.get("labels")!),
    });
    assert.deepEqual(out.logits.shape, [B, T, 9]);
    const logits = await out.logits.readFloat();
    const err = relMaxError(logits, toFloat32(ref.get("logits")!));
    assert.ok(err < 1e-4, `logits rel error ${err}`);
    const tags = Array.from({ length: B * T }, (_, i) => {
      const row = logits.subarray(i * 9, i * 9 + 9);
      return row.indexOf(Math.max(...row));
    });
    assert.deepEqual(tags, [...ints(ref.get("predictions")!)]);
    const [loss, want] = [(await out.loss!.readFloat())[0], toFloat32(ref.get("loss")!)[0]];
    assert.ok(Math.abs(loss - want) < 1e-5 * Math.abs(want), `loss ${loss} vs ${want}`);
    model.dispose();
  },
);

gpuTest("savePretrained writes a tagger that reloads exactly, without a pooler", async (gpu) => {
  const { model, report } = await BertForTokenClassification.fromPretrained(gpu, TINY, {
    numLabels: 5,
    seed: 3,
  });
  assert.deepEqual(report.missing.sort(), ["classifier.bias", "classifier.weight"]);
  assert.ok(report.unused.includes("bert.pooler.dense.weight"), "a pooler is reported unused");
  const dir = await Deno.makeTempDir();
  await model.savePretrained(dir);
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.deepEqual(config.architectures, ["BertForTokenClassification"]);
  assert.equal(config.num_labels, 5);
  const back = await BertForTokenClassification.fromPretrained(gpu, dir);
  assert.deepEqual([back.report.missing, back.report.unused], [[], []]);
  const [x, y] = [await readModelWeights(model), await readModelWeights(back.model)];
  assert.ok(![...x.keys()].some((k) => k.includes("pooler")));
  assert.deepEqual([...x.keys()], [...y.keys()]);
  for (const [k, t] of x) assert.deepEqual(toFloat32(y.get(k)!), toFloat32(t), k);
  const batch = { ...randomHostBatch({ B: 3, S: 9, vocab: 512 }), labels: undefined };
  assert.deepEqual(
    await back.model.forward(batch).logits.readFloat(),
    await model.forward(batch).logits.readFloat(),
  );
  model.dispose();
  back.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

gpuTest("token labels: -100 is ignored, another value outside the tags is refused", async (gpu) => {
  const model = new BertForTokenClassification(
    (await BertModel.fromPretrained(gpu, TINY)).model.config,
    { numLabels: 3 },
  ).materialize(gpu, 1);
  const batch = { ...randomHostBatch({ B: 2, S: 4, vocab: 512 }), labels: undefined };
  const labels = Int32Array.of(-100, 2, 0, -100, -100, 1, -100, -100);
  const out = model.forward(batch, labels);
  const logits = await out.logits.readFloat();
  let want = 0;
  for (const i of [1, 2, 5]) {
    const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
    want += Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]];
  }
  const loss = (await out.loss!.readFloat())[0];
  assert.ok(Math.abs(loss - want / 3) < 1e-5, `loss ${loss} vs ${want / 3}`);
  assert.throws(
    () => model.forward(batch, Int32Array.of(0, 3, 0, 0, 0, 0, 0, 0)),
    /token labels: value 3 at \[0, 1\] is outside \[0, 3\) \(num_labels\); a token without a label is -100/,
  );
  assert.throws(() => model.forward(batch, Int32Array.of(0, 1)), /2 labels for 2 rows of 4 tokens/);
  assert.throws(() => model.bert.forward(batch), /built without a pooler/);
  model.dispose();
});

Deno.test("a tagger needs at least two tags", () => {
  assert.throws(
    () => new BertForTokenClassification({ hiddenSize: 8 } as never, { numLabels: 1 }),
    /numLabels is 1, expected an integer >= 2/,
  );
});
