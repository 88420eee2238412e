import assert from "node:assert/strict";
import { backward } from "./backward.ts";
import { zeroGrad } from "../optim/zero_grad.ts";
import { noGrad } from "./grad_mode.ts";
import { beginScope, withScope } from "./scope.ts";
import { fromArray, type Tensor } from "./tensor.ts";
import { add, mul, scale } from "../ops/elementwise.ts";
import { sum } from "../ops/reduce.ts";
import { statsSince } from "../gpu/recorder.ts";
import type { Gpu } from "../gpu/device.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { assertAllClose } from "../../tests/_util/allclose.ts";

function param(gpu: Gpu, data: number[], shape: number[], name: string): Tensor {
  const t = fromArray(gpu, data, shape, { persistent: true });
  t.requiresGrad = true;
  t.name = name;
  return t;
}

gpuTest("backward() sums gradients of a tensor used twice", async (gpu) => {
  // y = sum over broadcast of (x * x + 3x) → dy/dx = 2x + 3, reached through two paths.
  const x = param(gpu, [1, -2, 0.5], [3], "x");
  const y = add({ a: mul({ a: x, b: x }), b: scale({ a: x }, { s: 3 }) });
  const ones = fromArray(gpu, [1, 1, 1], [3]);
  backward(y, ones);
  assertAllClose(await x.grad!.read(), [5, -1, 4], { atol: 1e-6 });
  x.grad!.dispose();
  x.dispose();
});

gpuTest("backward() accumulates into .grad until zeroGrad()", async (gpu) => {
  const w = param(gpu, [2], [1], "w");
  for (let i = 0; i < 3; i++) backward(scale({ a: w }, { s: 1.5 }));
  assertAllClose(await w.grad!.read(), [4.5], { atol: 1e-6 });
  zeroGrad([w]);
  assertAllClose(await w.grad!.read(), [0], { atol: 0 });
  w.grad!.dispose();
  w.dispose();
});

gpuTest(
  "zeroGrad({ setToNone }) frees .grad; the next backward copies its first gradient in",
  async (gpu) => {
    const w = param(gpu, [2, -1, 3, 0.5, 7], [5], "w");
    backward(sum({ x: mul({ a: w, b: w }) }));
    const first = w.grad!;
    assertAllClose(await first.read(), [4, -2, 6, 1, 14], { atol: 1e-6 });
    zeroGrad([w], { setToNone: true });
    assert.equal(w.grad, null);
    assert.ok(first.disposed);
    // A copy, not the temporary itself: it must outlive the step's scope and accumulate after.
    await withScope(gpu, () => backward(sum({ x: scale({ a: w }, { s: 2 }) })));
    assert.ok(w.grad!.persistent);
    backward(sum({ x: scale({ a: w }, { s: 0.5 }) }));
    assertAllClose(await w.grad!.read(), [2.5, 2.5, 2.5, 2.5, 2.5], { atol: 1e-6 });
    assert.equal(w.grad!.name, "w.grad");
    w.grad!.dispose();
    w.dispose();
  },
);

gpuTest("backward() reduces gradients of broadcast operands", async (gpu) => {
  const b = param(gpu, [1, 2], [2], "b");
  const x = fromArray(gpu, [1, 2, 3, 4, 5, 6], [3, 2]);
  const y = mul({ a: x, b });
  backward(y, fromArray(gpu, [1, 1, 1, 1, 1, 1], [3, 2]));
  assertAllClose(await b.grad!.read(), [9, 12], { atol: 1e-6 });
  b.grad!.dispose();
  b.dispose();
});

gpuTest("noGrad() records no graph", async (gpu) => {
  const w = param(gpu, [1], [1], "w");
  const y = await noGrad(() => scale({ a: w }, { s: 2 }));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.throws(() => backward(y), /does not require a gradient/);
  w.dispose();
});

gpuTest("backward() rejects a non-scalar root without a gradient", (gpu) => {
  const w = param(gpu, [1, 2], [2], "w");
  assert.throws(() => backward(scale({ a: w }, { s: 2 })), /pass a gradient for non-scalars/);
  w.dispose();
});

gpuTest("scopes release every temporary; live bytes return to their start", async (gpu) => {
  const w = param(gpu, new Array(1000).fill(0.5), [1000], "w");
  const wBytes = w.buffer.size;
  const before = gpu.pool.stats().liveBytes;
  for (let step = 0; step < 50; step++) {
    await withScope(gpu, () => {
      const y = mul({ a: add({ a: w, b: w }), b: w });
      backward(y, fromArray(gpu, new Float32Array(1000).fill(1), [1000]));
    });
    if (step === 0) assert.ok(w.grad, "grad allocated on first step");
    if (step === 1) assert.equal(gpu.pool.stats().liveBytes, before + w.grad!.buffer.size);
  }
  assert.equal(gpu.pool.stats().liveBytes, before + w.grad!.buffer.size);
  w.grad!.dispose();
  w.dispose();
  assert.equal(gpu.pool.stats().liveBytes, before - wBytes);
});

gpuTest("a disposed tensor cannot be used", (gpu) => {
  const scope = beginScope(gpu);
  const t = fromArray(gpu, [1, 2], [2]);
  scope.end();
  assert.equal(t.disposed, true);
  assert.throws(() => t.buffer, /it was disposed/);
});

/** Runs `fn` counting the buffer copies it records. */
function copies(gpu: Gpu, fn: () => void): number {
  const recorder = gpu.recorder, copy = recorder.copy;
  let n = 0;
  recorder.copy = (...args) => {
    n++;
    copy.apply(recorder, args);
  };
  try {
    fn();
  } finally {
    recorder.copy = copy;
  }
  return n;
}

/** One backward in a scope of its own, as a training step runs it; its counts of work. */
async function step(gpu: Gpu, fn: () => void): Promise<{ dispatches: number; copies: number }> {
  const before = { ...gpu.recorder.stats };
  let n = 0;
  await withScope(gpu, () => {
    n = copies(gpu, fn);
  });
  return { dispatches: statsSince(before, gpu.recorder.stats).dispatches, copies: n };
}

gpuTest(
  "after zeroGrad, backward takes the leaf's gradient in: no fill, no accumulate, no copy",
  async (gpu) => {
    const w = param(gpu, [2, -1, 3, 0.5, 7], [5], "w");
    await step(gpu, () => backward(sum({ x: mul({ a: w, b: w }) })));
    const grad = w.grad!;
    const live = gpu.pool.stats().liveBytes;
    for (let s = 1; s <= 3; s++) {
      zeroGrad([w]);
      const taken = await step(gpu, () => backward(sum({ x: scale({ a: w }, { s }) })));
      assert.equal(w.grad, grad, "the same gradient tensor");
      assert.equal(taken.copies, 0);
      assertAllClose(await w.grad!.read(), new Array(5).fill(s), { atol: 0 });
      // Without zeroGrad the next backward adds: one accumulate more, and the sum.
      const added = await step(gpu, () => backward(sum({ x: scale({ a: w }, { s }) })));
      assert.equal(added.dispatches, taken.dispatches + 1);
      assertAllClose(await w.grad!.read(), new Array(5).fill(2 * s), { atol: 0 });
      assert.equal(gpu.pool.stats().liveBytes, live, `live bytes after step ${s}`);
    }
    w.grad!.dispose();
    w.dispose();
  },
);

gpuTest(
  "a gradient that reaches two leaves is taken by one and copied by the other",
  async (gpu) => {
    const p1 = param(gpu, [1, 2, 3], [3], "p1"), p2 = param(gpu, [4, 5, 6], [3], "p2");
    // First with no .grad yet, then with zeroGrad's pending zeros: `add` hands its one output
    // gradient to both inputs.
    for (const round of [0, 1]) {
      if (round === 1) zeroGrad([p1, p2]);
      const both = await step(gpu, () => backward(sum({ x: add({ a: p1, b: p2 }) })));
      assert.equal(both.copies, 1, `round ${round}`);
      await step(gpu, () => backward(sum({ x: scale({ a: p1 }, { s: 3 }) })));
      await step(gpu, () => backward(sum({ x: scale({ a: p2 }, { s: -2 }) })));
      assertAllClose(await p1.grad!.read(), [4, 4, 4], { atol: 0, label: `p1, round ${round}` });
      assertAllClose(await p2.grad!.read(), [-1, -1, -1], { atol: 0, label: `p2, round ${round}` });
    }
    for (const p of [p1, p2]) {
      p.grad!.dispose();
      p.dispose();
    }
  },
);

gpuTest("a leaf's gradient never aliases the root gradient the caller passed", async (gpu) => {
  const p1 = param(gpu, [1, 2, 3], [3], "p1"), p2 = param(gpu, [4, 5, 6], [3], "p2");
  const dy = fromArray(gpu, [1, -1, 2], [3]);
  for (const round of [0, 1]) {
    if (round === 1) zeroGrad([p1, p2]);
    await step(gpu, () => backward(add({ a: p1, b: p2 }), dy));
    await step(gpu, () => backward(p1, dy)); // the root is a leaf itself
    await step(gpu, () => backward(sum({ x: scale({ a: p2 }, { s: 3 }) })));
    assertAllClose(await dy.read(), [1, -1, 2], { atol: 0, label: `dy, round ${round}` });
    assertAllClose(await p1.grad!.read(), [2, -2, 4], { atol: 0, label: `p1, round ${round}` });
    assertAllClose(await p2.grad!.read(), [4, 2, 5], { atol: 0, label: `p2, round ${round}` });
  }
  for (const p of [p1, p2]) {
    p.grad!.dispose();
    p.dispose();
  }
});
