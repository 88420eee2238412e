import assert from "node:assert/strict";
import { fromArray, type Tensor } from "./tensor.ts";
import { withScope } from "./scope.ts";
import { add } from "../ops/elementwise.ts";
import { reshape } from "../ops/reshape.ts";
import { statsSince } from "../gpu/recorder.ts";
import type { Gpu } from "../gpu/device.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";

const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * 0.5);

/** A tensor of 7 elements (no vec4 kernel), holding 0, 0.5, 1, … before its pending fill. */
function pending(gpu: Gpu, value: number, options: { persistent?: boolean } = {}): Tensor {
  const t = fromArray(gpu, seq(7), [7], options);
  t.fillLater(value);
  return t;
}

gpuTest(
  "fillLater dispatches nothing until the data is used, then reads as filled",
  async (gpu) => {
    const t = fromArray(gpu, seq(7), [7]);
    const before = { ...gpu.recorder.stats };
    t.fillLater(-1.5);
    assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 0);
    assert.equal(t.pendingFill, -1.5);
    assert.deepEqual([...await t.read()], new Array(7).fill(-1.5));
    assert.equal(t.pendingFill, undefined);
    assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 1, "one fill, once");
    assert.deepEqual([...await t.read()], new Array(7).fill(-1.5));
    assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 1);
  },
);

gpuTest("a pending fill is what a kernel binding it reads", async (gpu) => {
  const t = pending(gpu, 2);
  const out = add({ a: t, b: fromArray(gpu, seq(7, 1), [7]) });
  assert.deepEqual([...await out.read()], seq(7, 3));
});

gpuTest("a tensor and its views share one pending fill", async (gpu) => {
  const base = pending(gpu, 4);
  const view = reshape(base, [7, 1]);
  assert.equal(view.pendingFill, 4);
  assert.deepEqual([...await view.read()], new Array(7).fill(4));
  assert.equal(base.pendingFill, undefined, "filled once, for both");
  assert.deepEqual([...await base.read()], new Array(7).fill(4));
  // A fill recorded through the view reaches the base.
  view.fillLater(-3);
  assert.deepEqual([...await base.read()], new Array(7).fill(-3));
});

gpuTest("write() after fillLater keeps the written values", async (gpu) => {
  const t = pending(gpu, 9);
  t.write(seq(7, 2));
  assert.deepEqual([...await t.read()], seq(7, 2));
});

gpuTest("assign copies over a pending fill without dispatching it", async (gpu) => {
  const dst = pending(gpu, 5, { persistent: true });
  const src = fromArray(gpu, seq(7, 1), [7]);
  const before = { ...gpu.recorder.stats };
  dst.assign(src, false);
  assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 0);
  assert.equal(dst.pendingFill, undefined);
  src.write(seq(7, 10)); // a copy: src's later values stay out of dst
  assert.deepEqual([...await dst.read()], seq(7, 1));
  dst.dispose();
});

gpuTest("assign adopts src's buffer and returns its own to the pool", async (gpu) => {
  const start = gpu.pool.stats().liveBytes;
  const dst = pending(gpu, 5, { persistent: true });
  const one = gpu.pool.stats().liveBytes - start;
  await withScope(gpu, () => {
    const src = fromArray(gpu, seq(7, 1), [7]);
    dst.assign(src, true);
    assert.equal(gpu.pool.stats().liveBytes, start + one, "dst's own buffer is back in the pool");
    assert.equal(dst.buffer, src.buffer);
  });
  // The scope freed src, which only dropped its hold: the buffer is dst's alone now.
  assert.equal(gpu.pool.stats().liveBytes, start + one);
  assert.deepEqual([...await dst.read()], seq(7, 1));
  dst.dispose();
  assert.equal(gpu.pool.stats().liveBytes, start);
});

gpuTest("assign copies when src is shared or dst is not persistent", async (gpu) => {
  const src = fromArray(gpu, seq(7, 1), [7]);
  const view = reshape(src, [1, 7]);
  const dst = pending(gpu, 5, { persistent: true });
  dst.assign(src, true);
  assert.notEqual(dst.buffer, src.buffer, "a view holds src's buffer too");
  view.dispose();
  const temp = pending(gpu, 5);
  temp.assign(src, true);
  assert.notEqual(temp.buffer, src.buffer, "only a persistent tensor takes a buffer in");
  src.write(seq(7, 10));
  assert.deepEqual([...await dst.read()], seq(7, 1));
  assert.deepEqual([...await temp.read()], seq(7, 1));
  dst.dispose();
});

gpuTest("clipLater scales on first use, and a fill or zeros pending win over it", async (gpu) => {
  const norm = fromArray(gpu, [4], [1]); // clip_grad_norm_'s factor at maxNorm 1: 1 / (4 + 1e-6)
  const coef = Math.fround(1 / Math.fround(4 + 1e-6));
  const t = fromArray(gpu, seq(7), [7], { persistent: true });
  const before = { ...gpu.recorder.stats };
  t.clipLater(norm, 1);
  assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 0);
  norm.dispose(); // the pending clip holds the norm's buffer itself
  const got = await t.read();
  seq(7).forEach((x, i) => assert.ok(Math.abs(got[i] - x * coef) < 1e-7, `element ${i}`));
  assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 1);
  assert.equal(t.takeClip(), undefined, "applied once");

  t.clipLater(fromArray(gpu, [4], [1]), 1);
  t.fillLater(2); // zeroGrad after clipping: the clip is dropped
  assert.deepEqual([...await t.read()], new Array(7).fill(2));

  t.fillLater(0);
  t.clipLater(fromArray(gpu, [4], [1]), 1); // zeros pending stay zeros, with no clip owed
  assert.equal(t.takeClip(), undefined);
  assert.deepEqual([...await t.read()], new Array(7).fill(0));
  t.dispose();
});
