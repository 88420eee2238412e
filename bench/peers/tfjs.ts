/**
 * TensorFlow.js on its WebGPU backend, with the same workloads as `camtl.ts`. Imported only by
 * the peer benchmark, never from `lib/`. The full `@tensorflow/tfjs` package registers the
 * kernels and gradients; the WebGPU backend requests the default adapter, as `requestGpu()`
 * does. GELU is the exact one, `0.5·x·(1 + erf(x/√2))`, through `tf.erf`.
 *
 * @module
 */

// tfjs is a peer to measure against, not a dependency of camtl: bench/peers/deno.json maps it.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { ADAMW, hostArray, hostBatch } from "./camtl.ts";
import type { Case, Impl, LayerShape, StepShape } from "./timing.ts";

interface WebGpuBackend {
  device?: GPUDevice;
  adapterInfo?: GPUAdapterInfo;
  submitQueue?: () => void;
}

/** Waits until every command tfjs has recorded has run on the device. */
async function sync(): Promise<void> {
  const be = tf.backend() as unknown as WebGpuBackend;
  be.submitQueue?.();
  await be.device?.queue.onSubmittedWorkDone();
}

/** One encoder layer's parameters, as tfjs variables. */
export type LayerParams = Record<string, tf.Variable>;

/** Parameters of one layer, initialised as BERT does (N(0, 0.02) weights, zero biases). */
export function layerParams(s: LayerShape, seed: number, prefix = ""): LayerParams {
  const { H, ffn } = s;
  const w = (name: string, shape: [number, number], k: number) =>
    tf.variable(tf.truncatedNormal(shape, 0, 0.02, "float32", seed + k), true, prefix + name);
  const z = (name: string, n: number) => tf.variable(tf.zeros([n]), true, prefix + name);
  const o = (name: string, n: number) => tf.variable(tf.ones([n]), true, prefix + name);
  return {
    wq: w("wq", [H, H], 1),
    bq: z("bq", H),
    wk: w("wk", [H, H], 2),
    bk: z("bk", H),
    wv: w("wv", [H, H], 3),
    bv: z("bv", H),
    wo: w("wo", [H, H], 4),
    bo: z("bo", H),
    g1: o("g1", H),
    b1: z("b1", H),
    wi: w("wi", [H, ffn], 5),
    bi: z("bi", ffn),
    wf: w("wf", [ffn, H], 6),
    bf: z("bf", H),
    g2: o("g2", H),
    b2: z("b2", H),
  };
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(1e-12).sqrt()).mul(g).add(b);
}

/** One encoder layer on `x` `[B·T, H]` with `maskBias` `[B, 1, 1, T]`; returns `[B·T, H]`. */
export function layerForward(
  p: LayerParams,
  x: tf.Tensor2D,
  maskBias: tf.Tensor,
  s: LayerShape,
): tf.Tensor2D {
  const { B, T, H, heads } = s;
  const hd = H / heads;
  const split = (t: tf.Tensor2D) => t.reshape([B, T, heads, hd]).transpose([0, 2, 1, 3]);
  const q = split(x.matMul(p.wq).add(p.bq));
  const k = split(x.matMul(p.wk).add(p.bk));
  const v = split(x.matMul(p.wv).add(p.bv));
  const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)).add(maskBias);
  const ctx = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * T, H]);
  const a = layerNorm(ctx.matMul(p.wo).add(p.bo).add(x) as tf.Tensor2D, p.g1, p.b1);
  const u = a.matMul(p.wi).add(p.bi);
  const gelu = u.mul(0.5).mul(tf.erf(u.mul(Math.SQRT1_2)).add(1)) as tf.Tensor2D;
  return layerNorm(gelu.matMul(p.wf).add(p.bf).add(a) as tf.Tensor2D, p.g2, p.b2);
}

/** Sets the WebGPU backend; returns the adapter description tfjs reports, if any. */
export async function tfjsSetup(): Promise<string | undefined> {
  await tf.setBackend("webgpu");
  await tf.ready();
  if (tf.getBackend() !== "webgpu") {
    throw new Error(`Cannot benchmark tfjs-webgpu: backend is "${tf.getBackend()}"`);
  }
  return (tf.backend() as unknown as WebGpuBackend).adapterInfo?.description;
}

/** tfjs on its WebGPU backend; call `tfjsSetup()` first. */
export function tfjsImpl(): Impl {
  return {
    name: "tfjs-webgpu",
    matmul(S: number): Promise<Case> {
      const a = tf.tensor2d(hostArray(S * S, S), [S, S]);
      const b = tf.tensor2d(hostArray(S * S, S + 1), [S, S]);
      return Promise.resolve({
        async run() {
          const c = tf.matMul(a, b);
          await c.data();
          c.dispose();
        },
        dispose() {
          a.dispose();
          b.dispose();
        },
      });
    },
    bertLayer(s: LayerShape): Promise<Case> {
      const { B, T, H } = s;
      const p = layerParams(s, 1);
      const x = tf.tensor2d(hostArray(B * T * H, 7), [B * T, H]);
      const mask = tf.zeros([B, 1, 1, T]);
      return Promise.resolve({
        async run() {
          const { value, grads } = tf.variableGrads(() =>
            layerForward(p, x, mask, s).sum() as tf.Scalar
          );
          await sync();
          value.dispose();
          tf.dispose(grads);
        },
        dispose() {
          tf.dispose([...Object.values(p), x, mask]);
        },
      });
    },
    trainStep(s: StepShape): Promise<Case> {
      const { B, T, H, vocab, classes } = s;
      const w = (name: string, shape: number[], seed: number) =>
        tf.variable(tf.truncatedNormal(shape, 0, 0.02, "float32", seed), true, name);
      const emb = {
        word: w("word", [vocab, H], 101),
        pos: w("pos", [512, H], 102),
        type: w("type", [2, H], 103),
        g: tf.variable(tf.ones([H]), true, "embg"),
        b: tf.variable(tf.zeros([H]), true, "embb"),
      };
      const layers = Array.from({ length: s.layers }, (_, l) => layerParams(s, 10 * l, `l${l}.`));
      const pool = { w: w("poolw", [H, H], 104), b: tf.variable(tf.zeros([H]), true, "poolb") };
      const cls = { w: w("clsw", [H, classes], 105), b: tf.variable(tf.zeros([classes])) };
      const vars: tf.Variable[] = [
        ...Object.values(emb),
        ...layers.flatMap((p) => Object.values(p)),
        pool.w,
        pool.b,
        cls.w,
        cls.b,
      ];
      const m = vars.map((v) => tf.variable(tf.zerosLike(v), false));
      const v2 = vars.map((v) => tf.variable(tf.zerosLike(v), false));
      const { ids, labels } = hostBatch(s);
      const idsT = tf.tensor1d(ids, "int32");
      const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), classes);
      const mask = tf.zeros([B, 1, 1, T]);
      let step = 0;
      const loss = () => {
        const e = tf.gather(emb.word, idsT).add(emb.pos.slice([0, 0], [T, H]).tile([B, 1]))
          .add(emb.type.slice([0, 0], [1, H]));
        let h = layerNorm(e as tf.Tensor2D, emb.g, emb.b);
        for (const p of layers) h = layerForward(p, h, mask, s);
        const first = h.reshape([B, T, H]).slice([0, 0, 0], [B, 1, H]).reshape([B, H]);
        const pooled = tf.tanh(first.matMul(pool.w).add(pool.b)) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(onehot, pooled.matMul(cls.w).add(cls.b)) as tf.Scalar;
      };
      return Promise.resolve({
        async run() {
          const { value, grads } = tf.variableGrads(loss, vars);
          step++;
          const { lr, beta1, beta2, eps, weightDecay } = ADAMW;
          const c1 = 1 / (1 - beta1 ** step), c2 = 1 / (1 - beta2 ** step);
          tf.tidy(() => {
            vars.forEach((p, i) => {
              const g = grads[p.name];
              const mi = m[i].mul(beta1).add(g.mul(1 - beta1));
              const vi = v2[i].mul(beta2).add(g.square().mul(1 - beta2));
              m[i].assign(mi);
              v2[i].assign(vi);
              const upd = mi.mul(c1).div(vi.mul(c2).sqrt().add(eps));
              p.assign(p.mul(1 - lr * weightDecay).sub(upd.mul(lr)));
            });
          });
          await sync();
          value.dispose();
          tf.dispose(grads);
        },
        dispose() {
          tf.dispose([...vars, ...m, ...v2, idsT, onehot, mask]);
        },
      });
    },
  };
}
