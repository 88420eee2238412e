import assert from "node:assert/strict";
import { backward } from "../autograd/backward.ts";
import { fromArray } from "../autograd/tensor.ts";
import { sum } from "../ops/reduce.ts";
import { Linear, ModuleList } from "../nn/layers.ts";
import { LayerNorm } from "../nn/layers.ts";
import { AdamW } from "./adamw.ts";
import { clipGradNorm } from "./clip.ts";
import { groupParameters, noDecay } from "./params.ts";
import { zeroGrad } from "./zero_grad.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import type { Gpu } from "../gpu/device.ts";

function net(gpu: Gpu) {
  return new ModuleList([new Linear(3, 4), new LayerNorm(4, 1e-12), new Linear(4, 2)])
    .materialize(gpu, 7);
}

/** One backward through the net, so that every parameter has a gradient. */
function grads(gpu: Gpu, m: ReturnType<typeof net>) {
  const x = fromArray(gpu, [0.5, -1, 2, 1, 0, -0.5], [2, 3]);
  const [a, n, b] = m.items as [Linear, LayerNorm, Linear];
  backward(sum({ x: b.forward(n.forward(a.forward(x))) }));
}

gpuTest("zeroGrad takes a module, its parameters() or tensors", async (gpu) => {
  const m = net(gpu);
  for (const source of [m, m.parameters(), m.parameters().map((p) => p.value)]) {
    grads(gpu, m);
    zeroGrad(source);
    for (const p of m.parameters()) {
      assert.ok((await p.value.grad!.readFloat()).every((v) => v === 0));
    }
  }
  m.dispose();
});

gpuTest("clipGradNorm takes a module or its parameters() and clips the same", async (gpu) => {
  const m = net(gpu);
  grads(gpu, m);
  const full = (await clipGradNorm(m, 1e9).readFloat())[0];
  assert.ok(full > 0);
  const again = (await clipGradNorm(m.parameters(), 1e9).readFloat())[0];
  assert.equal(again, full);
  zeroGrad(m);
  m.dispose();
});

gpuTest("AdamW takes a module, parameters() or tensors, with one weight decay", (gpu) => {
  const m = net(gpu);
  for (const source of [m, m.parameters(), m.parameters().map((p) => p.value)]) {
    const opt = new AdamW(source, { lr: 0.1, weightDecay: 0.01 });
    assert.equal(opt.params.length, 6);
    assert.ok(opt.params.every((p) => p.weightDecay === 0.01));
    opt.dispose();
  }
  m.dispose();
});

gpuTest("groupParameters exempts biases and LayerNorm weights from decay", (gpu) => {
  const m = net(gpu);
  const groups = groupParameters(m, { weightDecay: 0.01 });
  const decay = groups.map((g) => g.weightDecay);
  // 0.weight, 0.bias, 1.weight (a LayerNorm called "1" here), 1.bias, 2.weight, 2.bias
  assert.deepEqual(decay, [0.01, 0, 0.01, 0, 0.01, 0]);
  assert.equal(noDecay("bert.encoder.layer.0.output.LayerNorm.weight"), true);
  assert.equal(noDecay("bert.pooler.dense.weight"), false);
  m.parameters()[0].trainable = false;
  assert.equal(
    groupParameters(m, { weightDecay: 0.01 }).length,
    5,
    "frozen parameters are left out",
  );
  m.dispose();
});

gpuTest("anything else gets an error naming what was passed", (gpu) => {
  const m = net(gpu);
  assert.throws(() => zeroGrad(42 as never), /Cannot zero gradients: got a number \(42\)/);
  assert.throws(() => clipGradNorm([m.parameters()[0], "w"] as never, 1), /item 1 is a string/);
  assert.throws(() => new AdamW([{}] as never, { lr: 1 }), /item 0 is an Object/);
  assert.throws(() => clipGradNorm([], 1), /no parameters were given/);
  m.dispose();
});
