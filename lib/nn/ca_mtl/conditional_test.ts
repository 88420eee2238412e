import assert from "node:assert/strict";
import { fromArray } from "../../autograd/tensor.ts";
import { layerNorm } from "../../ops/layer_norm.ts";
import { BertSelfAttention } from "../bert/attention.ts";
import { SeedStream } from "../seeds.ts";
import { caMtlTinyBert } from "./config.ts";
import { CbdaSelfAttention, ConditionalLayerNorm, FilmGenerator } from "./conditional.ts";
import { CaMtl } from "./model.ts";
import { gpuTest } from "../../../tests/_util/gpu.ts";
import { assertAllClose } from "../../../tests/_util/allclose.ts";
import { Rng } from "../../../tests/_util/rng.ts";
import type { Module } from "../module.ts";

function zeroAll(m: Module, pattern: RegExp) {
  for (const [k, p] of m.namedParameters()) {
    if (pattern.test(k)) p.value.write(new Float32Array(p.size));
  }
}

gpuTest("a zero FiLM generator is the identity (alignment)", async (gpu) => {
  const rng = new Rng(1);
  const film = new FilmGenerator(8, 6, 0.5).materialize(gpu, 3);
  zeroAll(film, /gb_weights/);
  const x = Float64Array.from(Float32Array.from(rng.array(2 * 5 * 6)));
  const out = film.forward(fromArray(gpu, x, [2, 5, 6]), fromArray(gpu, rng.array(16), [2, 8]));
  assertAllClose(await out.read(), x, { atol: 0, rtol: 0 });
  film.dispose();
});

gpuTest("a zero CLN generator gives a plain layer norm", async (gpu) => {
  const rng = new Rng(2);
  const cln = new ConditionalLayerNorm(12, 1e-12, 0.5).materialize(gpu, 4);
  zeroAll(cln, /gb_weights/);
  cln.weight.value.write(Float32Array.from(rng.array(12)));
  cln.bias.value.write(Float32Array.from(rng.array(12)));
  const x = fromArray(gpu, rng.array(3 * 7 * 12), [3, 7, 12]);
  const zt = fromArray(gpu, rng.array(3 * 12), [3, 12]);
  const got = await cln.forward(x, { z: zt, zt }).read();
  const plain = layerNorm({ x, gain: cln.weight.value, bias: cln.bias.value }, { eps: 1e-12 });
  assertAllClose(got, await plain.read(), { atol: 1e-6, rtol: 1e-6 });
  cln.dispose();
});

gpuTest("CBDA with A = 0 and a zero generator adds nothing to attention", async (gpu) => {
  const rng = new Rng(3);
  const config = { ...caMtlTinyBert(50), hiddenSize: 32, numAttentionHeads: 4 };
  const cbda = new CbdaSelfAttention(config, new SeedStream(1), 16).materialize(gpu, 5).eval();
  const plain = new BertSelfAttention(config, new SeedStream(1)).materialize(gpu, 5).eval();
  zeroAll(cbda, /cond_block_diag_attn/);
  assert.deepEqual(
    await cbda.randomWeightMatrix.value.read(),
    new Float32Array(16 * 8),
    "A starts at zero",
  );
  const h = fromArray(gpu, rng.array(2 * 9 * 32), [2, 9, 32]);
  const mask = fromArray(gpu, new Float32Array(18), [2, 9]);
  const zt = fromArray(gpu, rng.array(64), [2, 32]);
  const bias = await cbda.attentionBias({ z: zt, zt }, 9).read();
  assert.ok(bias.every((v) => v === 0));
  assertAllClose(
    await cbda.forward(h, mask, { z: zt, zt }).read(),
    await plain.forward(h, mask).read(),
    { atol: 1e-6, rtol: 1e-5 },
  );
  cbda.dispose();
  plain.dispose();
});

gpuTest("new modules start as docs/model.md §9.1 says", async (gpu) => {
  const model = new CaMtl({
    architecture: "CA-MTL-base",
    bert: caMtlTinyBert(60),
    tasks: [{ name: "a", numLabels: 2 }, { name: "b", numLabels: 1 }],
    maxSeqLength: 64,
  }).materialize(gpu, 9);
  for (const [k, p] of model.namedParameters()) {
    const v = await p.value.readFloat();
    if (k.endsWith("random_weight_matrix") || k.endsWith(".bias")) {
      assert.ok(v.every((x) => x === 0), `${k} starts at zero`);
    } else if (/LayerNorm\.weight$|condlayernorm\.weight$/.test(k)) {
      assert.ok(v.every((x) => x === 1), `${k} starts at one`);
    } else {
      const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
      assert.ok(std > 0.01 && std < 0.03, `${k} ~ N(0, 0.02): std ${std}`);
    }
  }
  model.dispose();
});
