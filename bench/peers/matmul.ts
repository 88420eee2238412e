/**
 * camtl's f32 matmul against TensorFlow.js's WebGPU backend on the same adapter, in one
 * process: square 1024³ and 512³ products, warm-ups first, then the two implementations
 * interleaved rep by rep (alternating which goes first) so that both see the same machine load.
 * Each measurement ends with a readback of the result on both sides (`Tensor.read()` here,
 * `await tensor.data()` in tfjs), so that the same work is timed. Reports the median, minimum
 * and maximum of the reps, GFLOP/s and the camtl/tfjs speed ratio.
 *
 * Run: `deno task bench:matmul-peers [--reps N] [--json]`. With `--json`, prints one line
 * per measurement: `{"bench","impl","adapter","median_ms","min_ms","max_ms"}`.
 *
 * TensorFlow.js is imported only here, never from `lib/`. The full `@tensorflow/tfjs` package
 * registers the kernels (`tfjs-core` alone registers none); the WebGPU backend requests the
 * default adapter, as `requestGpu()` does.
 *
 * @module
 */

// tfjs is a peer to measure against, not a dependency of camtl: bench/peers/deno.json maps it.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { beginScope } from "../../lib/autograd/scope.ts";
import { fromArray } from "../../lib/autograd/tensor.ts";
import { requestGpu } from "../../lib/gpu/device.ts";
import { matmul } from "../../lib/ops/matmul.ts";
import { Rng } from "../../tests/_util/rng.ts";

const args = {
  json: Deno.args.includes("--json"),
  reps: Deno.args.includes("--reps") ? Number(Deno.args[Deno.args.indexOf("--reps") + 1]) : 7,
};
if (!Number.isInteger(args.reps)) {
  console.error("usage: deno task bench:matmul-peers [--reps N] [--json]");
  Deno.exit(2);
}
const REPS = Math.max(5, args.reps);
const WARMUP = 2;

const gpu = await requestGpu();
await tf.setBackend("webgpu");
await tf.ready();
const adapter = gpu.adapter.description;
// tfjs keeps its own device; report what it says about its adapter when it can.
const tfAdapter = (tf.backend() as unknown as { device?: { adapterInfo?: GPUAdapterInfo } })
  .device?.adapterInfo?.description;
if (!args.json) {
  console.log(
    `adapter: "${adapter}"; tfjs ${tf.version.tfjs} on backend "${tf.getBackend()}"` +
      (tfAdapter ? ` ("${tfAdapter}")` : ""),
  );
}

interface Stats {
  median: number;
  min: number;
  max: number;
}

function stats(times: number[]): Stats {
  const t = [...times].sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1] };
}

async function compare(S: number): Promise<void> {
  const rng = new Rng(S);
  const a = Float32Array.from(rng.array(S * S)), b = Float32Array.from(rng.array(S * S));
  const ca = fromArray(gpu, a, [S, S], { persistent: true });
  const cb = fromArray(gpu, b, [S, S], { persistent: true });
  const ta = tf.tensor2d(a, [S, S]), tb = tf.tensor2d(b, [S, S]);
  const impls: Record<string, () => Promise<number>> = {
    camtl: async () => {
      const scope = beginScope(gpu);
      const t0 = performance.now();
      await matmul({ a: ca, b: cb }).read();
      const dt = performance.now() - t0;
      scope.end();
      return dt;
    },
    "tfjs-webgpu": async () => {
      const t0 = performance.now();
      const c = tf.matMul(ta, tb);
      await c.data();
      const dt = performance.now() - t0;
      c.dispose();
      return dt;
    },
  };
  const names = Object.keys(impls);
  for (let i = 0; i < WARMUP; i++) for (const name of names) await impls[name]();
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) times[name].push(await impls[name]());
  }
  const bench = `matmul_f32[${S}x${S}x${S}]`;
  const flops = 2 * S * S * S;
  const result = Object.fromEntries(names.map((n) => [n, stats(times[n])]));
  for (const name of names) {
    const s = result[name];
    if (args.json) {
      console.log(JSON.stringify({
        bench,
        impl: name,
        adapter,
        median_ms: s.median,
        min_ms: s.min,
        max_ms: s.max,
      }));
    } else {
      console.log(
        `${bench} ${name.padEnd(12)} median ${s.median.toFixed(1).padStart(7)} ms ` +
          `(min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})  ` +
          `${(flops / s.median / 1e6).toFixed(2).padStart(6)} GFLOP/s`,
      );
    }
  }
  if (!args.json) {
    const ratio = result["tfjs-webgpu"].median / result.camtl.median;
    console.log(`${bench} camtl is ${ratio.toFixed(2)}× as fast as tfjs-webgpu (median vs median)`);
  }
  ca.dispose();
  cb.dispose();
  ta.dispose();
  tb.dispose();
}

for (const S of [1024, 512]) await compare(S);
Deno.exit(0);
