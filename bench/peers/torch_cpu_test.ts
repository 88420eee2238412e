/**
 * `torch_cpu.py` computes the same functions as camtl's side of the peer benchmark: camtl's
 * weights and inputs go to `torch_cpu.py --check`, which returns its loss, gradients and (for
 * the training step) the parameters after one AdamW update. Needs Debian's `/usr/bin/python3`
 * with torch; skipped with a visible message where it is missing (CI has no torch).
 *
 * @module
 */

import assert from "node:assert/strict";
import { backward } from "../../lib/autograd/backward.ts";
import { fromArray } from "../../lib/autograd/tensor.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import { uploadBatch } from "../../lib/nn/bert/inputs.ts";
import { BertLayer, plainNorm } from "../../lib/nn/bert/layer.ts";
import { BertModel } from "../../lib/nn/bert/model.ts";
import { Linear } from "../../lib/nn/layers.ts";
import type { Module } from "../../lib/nn/module.ts";
import { SeedStream } from "../../lib/nn/seeds.ts";
import { crossEntropy } from "../../lib/ops/cross_entropy.ts";
import { mul } from "../../lib/ops/elementwise.ts";
import { sum } from "../../lib/ops/reduce.ts";
import { AdamW } from "../../lib/optim/adamw.ts";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { Rng } from "../../tests/_util/rng.ts";
import { ADAMW, benchConfig, hostArray } from "./camtl.ts";
import { skipWithoutTorch, torchCheck } from "./_torch_check.ts";

interface TorchResult {
  loss: number;
  grads: Record<string, number[]>;
  updated?: Record<string, number[]>;
}

/** Each parameter's key, shape and current values. */
async function paramSpec(
  modules: [string, Module][],
): Promise<Record<string, { shape: readonly number[]; data: number[] }>> {
  const out: Record<string, { shape: readonly number[]; data: number[] }> = {};
  for (const [prefix, m] of modules) {
    for (const [name, p] of m.namedParameters(prefix)) {
      out[name] = { shape: p.shape, data: Array.from(await p.value.readFloat()) };
    }
  }
  return out;
}

/** Compares each of camtl's gradients with torch's under the parameter's key. */
async function assertGradsClose(
  modules: [string, Module][],
  torch: TorchResult,
  atol: number,
): Promise<number> {
  let count = 0;
  for (const [prefix, m] of modules) {
    for (const [name, p] of m.namedParameters(prefix)) {
      assert.ok(p.value.grad, `"${name}" has no gradient`);
      assertAllClose(await p.value.grad.readFloat(), torch.grads[name], {
        atol,
        rtol: 1e-3,
        label: `gradient of "${name}"`,
      });
      count++;
    }
  }
  return count;
}

const LAYER_NAME = "torch_cpu.py's BERT layer matches camtl's loss and all 16 gradients";
gpuTest(LAYER_NAME, async (gpu: Gpu) => {
  if (await skipWithoutTorch(LAYER_NAME)) return;
  const s = { B: 2, T: 16, H: 256, heads: 4, ffn: 1024 };
  const layer = new BertLayer(benchConfig(s), new SeedStream(1), { makeNorm: plainNorm })
    .materialize(gpu, 3);
  try {
    layer.eval();
    const { B, T, H } = s;
    const x = hostArray(B * T * H, 7), r = hostArray(B * T * H, 9);
    // Two padded positions at the end of the second sequence.
    const maskBias = Float32Array.from({ length: B * T }, (_, i) => i >= B * T - 2 ? -10000 : 0);
    const loss = sum({
      x: mul({
        a: layer.forward(fromArray(gpu, x, [B, T, H]), fromArray(gpu, maskBias, [B, T])),
        b: fromArray(gpu, r, [B, T, H]),
      }),
    });
    backward(loss);
    const ours = (await loss.readFloat())[0];
    const torch = await torchCheck<TorchResult>({
      kind: "layer",
      shape: s,
      params: await paramSpec([["", layer]]),
      x: Array.from(x),
      r: Array.from(r),
      maskBias: Array.from(maskBias),
    });
    assert.ok(
      Math.abs(ours - torch.loss) <= 1e-5 * Math.abs(torch.loss) + 1e-4,
      `loss: camtl ${ours}, torch ${torch.loss}`,
    );
    assert.equal(await assertGradsClose([["", layer]], torch, 2e-5), 16);
  } finally {
    layer.dispose();
  }
});

const STEP_NAME = "torch_cpu.py's training step matches camtl's loss, gradients and AdamW update";
gpuTest(STEP_NAME, async (gpu: Gpu) => {
  if (await skipWithoutTorch(STEP_NAME)) return;
  const s = { B: 2, T: 16, H: 64, heads: 4, ffn: 128, L: 2, V: 100, K: 2 };
  const model = new BertModel(benchConfig(s, s.L, s.V), { seed: 5 }).materialize(gpu, 5);
  const head = new Linear(s.H, s.K, { std: 0.02 }).materialize(gpu, 6);
  const modules: [string, Module][] = [["", model], ["classifier.", head]];
  try {
    model.eval();
    const rng = new Rng(13);
    const ids = Int32Array.from({ length: s.B * s.T }, () => Math.floor(rng.next() * s.V));
    const tokenTypes = Int32Array.from({ length: s.B * s.T }, (_, i) => (i % s.T) >= 9 ? 1 : 0);
    const attention = Int32Array.from({ length: s.B * s.T }, (_, i) => i >= s.B * s.T - 3 ? 0 : 1);
    const labels = Int32Array.from([1, 0]);
    const inputs = uploadBatch(gpu, {
      inputIds: ids,
      tokenTypeIds: tokenTypes,
      attentionMask: attention,
      batchSize: s.B,
      seqLength: s.T,
    });
    const before = await paramSpec(modules);
    const loss = crossEntropy({ logits: head.forward(model.forward(inputs).pooled) }, {
      labels: fromArray(gpu, labels, [s.B], { dtype: "i32" }),
    });
    backward(loss);
    const torch = await torchCheck<TorchResult>({
      kind: "step",
      shape: s,
      params: before,
      ids: Array.from(ids),
      tokenTypes: Array.from(tokenTypes),
      labels: Array.from(labels),
      maskBias: Array.from(await inputs.maskBias.readFloat()),
    });
    const ours = (await loss.readFloat())[0];
    assert.ok(Math.abs(ours - torch.loss) <= 1e-5, `loss: camtl ${ours}, torch ${torch.loss}`);
    const count = await assertGradsClose(modules, torch, 1e-5);
    assert.equal(count, Object.keys(before).length);

    const params = modules.flatMap(([, m]) => m.parameters().map((p) => p.value));
    const opt = new AdamW(
      params.map((param) => ({ param, weightDecay: ADAMW.weightDecay })),
      { lr: ADAMW.lr, betas: [ADAMW.beta1, ADAMW.beta2], eps: ADAMW.eps },
    );
    opt.step();
    // AdamW's first step moves each entry by about ±lr·sign(g); where |g| is at rounding level
    // (the key biases' gradients are zero in exact arithmetic) the sign is noise, so compare
    // only entries with |g| > 1e-6, and require that most entries are compared.
    let compared = 0, total = 0;
    for (const [prefix, m] of modules) {
      for (const [name, p] of m.namedParameters(prefix)) {
        const got = await p.value.readFloat(), want = torch.updated![name];
        const g = torch.grads[name];
        const keep = [...got.keys()].filter((i) => Math.abs(g[i]) > 1e-6);
        total += got.length;
        compared += keep.length;
        assertAllClose(keep.map((i) => got[i]), keep.map((i) => want[i]), {
          atol: 2e-6,
          rtol: 0,
          label: `"${name}" after one AdamW step`,
        });
      }
    }
    assert.ok(compared > 0.5 * total, `only ${compared} of ${total} entries had |g| > 1e-6`);
    opt.dispose();
  } finally {
    model.dispose();
    head.dispose();
  }
});
