/**
 * The task losses at CA-MTL head shapes: cross-entropy over `[B=32, K=2]` logits (forward:
 * per-row loss + mean; backward), MSE over `[32]`, and the sampler's normalised entropy over
 * the `[T·b = 9·32, 3]` candidate logits. These are launch-bound; the baseline is one
 * `scale_forward` of the same `[32, 2]` logits (the cost of a dispatch and a sync). A larger
 * `[4096, 768]` cross-entropy shows the row kernel's bandwidth.
 *
 * Run: `deno bench -P bench/cross_entropy_bench.ts`. GB/s = `crossEntropyCost()` bytes / time.
 *
 * @module
 */

import { scaleForward } from "../kernels/elementwise.ts";
import { fromArray, Tensor } from "../lib/autograd/tensor.ts";
import { beginScope } from "../lib/autograd/scope.ts";
import { backward } from "../lib/autograd/backward.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { crossEntropy, normalizedEntropy } from "../lib/ops/cross_entropy.ts";
import { mseLoss } from "../lib/ops/mse.ts";
import { Rng } from "../tests/_util/rng.ts";

const B = 32, K = 2;
const gpu = await requestGpu();
console.log(`cross_entropy bench on "${gpu.adapter.description}"`);

const rng = new Rng(7);
const logits = fromArray(gpu, rng.array(B * K, -3, 3), [B, K]);
logits.requiresGrad = true;
const labels = fromArray(gpu, Int32Array.from({ length: B }, () => rng.int(K)), [B], {
  dtype: "i32",
});
const big = fromArray(gpu, rng.array(4096 * 768, -3, 3), [4096, 768]);
const bigLabels = fromArray(gpu, Int32Array.from({ length: 4096 }, () => rng.int(768)), [4096], {
  dtype: "i32",
});
const pred = fromArray(gpu, rng.array(B), [B]), target = fromArray(gpu, rng.array(B, 0, 5), [B]);
const candidates = fromArray(gpu, rng.array(9 * 32 * 3), [9 * 32, 3]);
const out = new Tensor(gpu, [B, K]);
const opts = { group: "cross_entropy", n: 30, warmup: 3 };

async function scoped(record: () => void): Promise<void> {
  const scope = beginScope(gpu);
  record();
  await gpu.sync();
  scope.end();
}

Deno.bench(`scale_forward[B=${B},K=${K}]`, { ...opts, baseline: true }, async () => {
  await scoped(() => dispatch(scaleForward, { a: logits, out }, { n: B * K, s: 1 }));
});
Deno.bench(`cross_entropy_forward + mean[B=${B},K=${K}]`, opts, async () => {
  await scoped(() => crossEntropy({ logits }, { labels }));
});
Deno.bench(`cross_entropy forward + backward[B=${B},K=${K}]`, opts, async () => {
  await scoped(() => {
    backward(crossEntropy({ logits }, { labels }));
    logits.grad?.dispose();
    logits.grad = null;
  });
});
Deno.bench(`cross_entropy_forward + mean[N=4096,K=768]`, opts, async () => {
  await scoped(() => crossEntropy({ logits: big }, { labels: bigLabels }));
});
Deno.bench(`squared_error + mean[N=${B}]`, opts, async () => {
  await scoped(() => mseLoss({ input: pred }, { target }));
});
Deno.bench(`normalized_entropy[N=288,K=3]`, opts, async () => {
  await scoped(() => normalizedEntropy(candidates));
});
