/**
 * Whole-model parity with PyTorch: a random 2-layer BERT (tests/fixtures/make_fixtures.py,
 * PyTorch's nn.TransformerEncoderLayer as the reference) loaded from its HF checkpoint. The
 * sequence and pooled outputs must match within 1e-4 and the gradient of a fixed scalar loss
 * within 1e-3 for every parameter (relative: max|a − b| / max|b|).
 */
import assert from "node:assert/strict";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { readBertConfig } from "../lib/io/config.ts";
import { loadStateDict as readWeights } from "../lib/io/checkpoint.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { type HostTensor, toFloat32 } from "../lib/io/host_tensor.ts";
import { uploadBatch } from "../lib/nn/bert/inputs.ts";
import { BertModel } from "../lib/nn/bert/model.ts";
import { loadModelWeights } from "../lib/nn/state_dict.ts";
import { attendsInPlace } from "../lib/gpu/kernel_choice.ts";
import { mul } from "../lib/ops/elementwise.ts";
import { sum } from "../lib/ops/reduce.ts";
import { add } from "../lib/ops/elementwise.ts";
import { gpuTest } from "./_util/gpu.ts";
import { relMaxError } from "./_util/allclose.ts";

const DIR = new URL("./fixtures/tiny_bert/", import.meta.url).pathname;

function ints(t: HostTensor): Int32Array {
  return new Int32Array(
    t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength),
  );
}

/** `x` `[B, S, ...inner]` with `pad` zero positions appended to every sequence. */
function padSeq<T extends Int32Array | Float32Array>(x: T, b: number, s: number, pad: number): T {
  const inner = x.length / (b * s);
  const out = new (x.constructor as { new (n: number): T })(b * (s + pad) * inner);
  for (let e = 0; e < b; e++) {
    out.set(x.subarray(e * s * inner, (e + 1) * s * inner), e * (s + pad) * inner);
  }
  return out;
}

// The fixture's 11 tokens take the path that copies heads out (T % 4 ≠ 0); one masked padding
// token makes 12, where attention reads the heads in place. Real tokens must not notice it.
for (const pad of [0, 1]) {
  gpuTest(`tiny BERT forward and gradients match PyTorch (${pad} padding token)`, async (gpu) => {
    const config = await readBertConfig(`${DIR}config.json`);
    const model = new BertModel(config).materialize(gpu);
    model.eval(); // dropout off for the comparison
    const { stateDict } = await readWeights(DIR);
    const report = loadModelWeights(model, stateDict, { optionalPrefix: "bert." });
    assert.equal(report.missing.length, 0);
    assert.deepEqual(report.unused, []);
    const ref = (await readSafetensors(`${DIR}reference.safetensors`)).stateDict;
    const get = (k: string) => ref.get(k)!;
    const [B, S] = get("input_ids").shape;
    const padded = <T extends Int32Array | Float32Array>(x: T) => padSeq(x, B, S, pad);
    const inputs = uploadBatch(gpu, {
      inputIds: padded(ints(get("input_ids"))),
      tokenTypeIds: padded(ints(get("token_type_ids"))),
      attentionMask: padded(ints(get("attention_mask"))),
      batchSize: B,
      seqLength: S + pad,
    });
    const { sequence, pooled } = model.forward(inputs);
    const seqWant = padded(toFloat32(get("sequence_output")));
    const C = config.hiddenSize;
    assert.equal(attendsInPlace(S + pad, C / config.numAttentionHeads), pad === 1);
    const real = (x: Float32Array) => x.filter((_, i) => Math.floor(i / C) % (S + pad) < S);
    const seqErr = relMaxError(real(await sequence.readFloat()), real(seqWant));
    const poolErr = relMaxError(await pooled.readFloat(), toFloat32(get("pooled_output")));
    assert.ok(seqErr < 1e-4, `sequence output rel error ${seqErr}`);
    assert.ok(poolErr < 1e-4, `pooled output rel error ${poolErr}`);

    const rSeq = fromArray(gpu, padded(toFloat32(get("r_sequence"))), sequence.shape);
    const rPool = fromArray(gpu, toFloat32(get("r_pooled")), pooled.shape);
    const loss = add({
      a: sum({ x: mul({ a: sequence, b: rSeq }) }),
      b: sum({ x: mul({ a: pooled, b: rPool }) }),
    });
    const lossRef = toFloat32(get("loss"))[0];
    const lossGot = (await loss.readFloat())[0];
    assert.ok(
      Math.abs(lossGot - lossRef) <= 1e-4 * Math.abs(lossRef),
      `loss ${lossGot} vs ${lossRef}`,
    );
    backward(loss);
    for (const [name, p] of model.namedParameters()) {
      const expected = get(`grad.bert.${name}`);
      assert.ok(expected, `reference has a gradient for ${name}`);
      const got = await p.value.grad!.readFloat(), want = toFloat32(expected);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (scale < 1e-6) {
        // The key bias adds the same q·b to every logit of a row, which softmax ignores: its
        // true gradient is 0, and both sides hold rounding noise. Check that ours is noise too.
        const ours = got.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(ours < 1e-5, `gradient of ${name} should vanish, max |g| = ${ours}`);
        continue;
      }
      const err = relMaxError(got, want);
      assert.ok(err < 1e-3, `gradient of ${name}: rel error ${err}`);
    }
    model.dispose();
  });
}

gpuTest("dropout is on in train mode and off in eval mode", async (gpu) => {
  const config = await readBertConfig(`${DIR}config.json`);
  const model = new BertModel(config, { seed: 3 }).materialize(gpu, 3);
  const ids = new Int32Array(2 * 9).map((_, i) => 1 + (i * 37) % 500);
  const batch = {
    inputIds: ids,
    tokenTypeIds: new Int32Array(18),
    attentionMask: new Int32Array(18).fill(1),
    batchSize: 2,
    seqLength: 9,
  };
  const run = async () => await model.forward(uploadBatch(gpu, batch)).sequence.readFloat();
  model.eval();
  const a = await run(), b = await run();
  assert.deepEqual(a, b);
  model.train();
  const c = await run(), d = await run();
  assert.ok(relMaxError(c, a) > 1e-3, "train mode differs from eval mode");
  assert.ok(relMaxError(c, d) > 1e-3, "two dropout draws differ");
  model.dispose();
});
