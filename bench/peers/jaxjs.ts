/**
 * jax-js (`@jax-js/jax`) with the same workloads as `camtl.ts`: `jit` of the matmul and
 * `jit(grad(loss))` of the encoder layer, on the WebGPU device when `init()` offers it.
 * Imported only by the peer benchmark, never from `lib/`.
 *
 * jax-js moves arrays into the functions they are passed to: every array used again is passed
 * as `.ref`. Its Wasm worker threads keep the process alive, so the benchmark ends with
 * `Deno.exit`. Readback is `await x.data()` (Deno has no synchronous readback); the layer
 * waits with `blockUntilReady` instead, which copies nothing back.
 *
 * @module
 */

// jax-js is a peer to measure against, not a dependency of camtl: bench/peers/deno.json maps it.
import * as jax from "@jax-js/jax";
import { ADAMW, hostArray, hostBatch } from "./camtl.ts";
import type { Case, Impl, LayerShape, StepShape } from "./timing.ts";

const np = jax.numpy;
type Arr = jax.Array;

/** One encoder layer's parameters. */
export type LayerParams = {
  wq: Arr;
  bq: Arr;
  wk: Arr;
  bk: Arr;
  wv: Arr;
  bv: Arr;
  wo: Arr;
  bo: Arr;
  g1: Arr;
  b1: Arr;
  wi: Arr;
  bi: Arr;
  wf: Arr;
  bf: Arr;
  g2: Arr;
  b2: Arr;
};

/** Parameters of one layer: 0.02-scaled uniform weights, zero biases, unit gains. */
export function layerParams(s: LayerShape, seed: number): LayerParams {
  const { H, ffn } = s;
  const w = (r: number, c: number, k: number) =>
    np.array(hostArray(r * c, seed * 100 + k).map((v) => v * 0.02)).reshape([r, c]);
  const z = (n: number) => np.zeros([n]);
  const o = (n: number) => np.ones([n]);
  return {
    wq: w(H, H, 1),
    bq: z(H),
    wk: w(H, H, 2),
    bk: z(H),
    wv: w(H, H, 3),
    bv: z(H),
    wo: w(H, H, 4),
    bo: z(H),
    g1: o(H),
    b1: z(H),
    wi: w(H, ffn, 5),
    bi: z(ffn),
    wf: w(ffn, H, 6),
    bf: z(H),
    g2: o(H),
    b2: z(H),
  };
}

/** LayerNorm over the last axis; consumes `x`, `g`, `b`. */
function layerNorm(x: Arr, g: Arr, b: Arr): Arr {
  const mean = np.mean(x.ref, -1, { keepdims: true });
  const d = x.sub(mean);
  const variance = np.mean(np.square(d.ref), -1, { keepdims: true });
  return d.div(np.sqrt(variance.add(1e-12))).mul(g).add(b);
}

/** One encoder layer on `x` `[B·T, H]`, `maskBias` `[B, 1, 1, T]`; consumes all its arguments. */
export function layerForward(p: LayerParams, x: Arr, maskBias: Arr, s: LayerShape): Arr {
  const { B, T, H, heads } = s;
  const hd = H / heads;
  const split = (t: Arr) => np.transpose(t.reshape([B, T, heads, hd]), [0, 2, 1, 3]);
  const q = split(np.matmul(x.ref, p.wq).add(p.bq));
  const k = split(np.matmul(x.ref, p.wk).add(p.bk));
  const v = split(np.matmul(x.ref, p.wv).add(p.bv));
  const scores = np.matmul(q, np.transpose(k, [0, 1, 3, 2])).mul(1 / Math.sqrt(hd)).add(maskBias);
  const ctx = np.transpose(np.matmul(jax.nn.softmax(scores, -1), v), [0, 2, 1, 3])
    .reshape([B * T, H]);
  const a = layerNorm(np.matmul(ctx, p.wo).add(p.bo).add(x), p.g1, p.b1);
  const u = jax.nn.gelu(np.matmul(a.ref, p.wi).add(p.bi), { approximate: false });
  return layerNorm(np.matmul(u, p.wf).add(p.bf).add(a), p.g2, p.b2);
}

/** The training model's parameters. */
export type ModelParams = {
  word: Arr;
  pos: Arr;
  type: Arr;
  embG: Arr;
  embB: Arr;
  layers: LayerParams[];
  poolW: Arr;
  poolB: Arr;
  clsW: Arr;
  clsB: Arr;
};

/**
 * Mean cross-entropy of the [CLS] classifier; consumes every argument. The word lookup is a
 * product with the one-hot ids `[B·T, V]`: jax-js 0.1.25 cannot `jit` the gradient of a gather
 * ("routine primitive scatter input is not imm"), and its eager scatter shader
 * (`atomic_add_f32`) fails WGSL validation on this adapter. Position and token-type embeddings
 * are slices (positions are 0..T−1 and every type is 0).
 */
function modelLoss(p: ModelParams, ids: Arr, onehot: Arr, mask: Arr, s: StepShape): Arr {
  const { B, T, H } = s;
  const e = np.matmul(ids, p.word);
  const x = e.reshape([B, T, H]).add(p.pos.slice([0, T], [])).add(p.type.slice(0, []));
  let h = layerNorm(x.reshape([B * T, H]), p.embG, p.embB);
  p.layers.forEach((l, i) => {
    h = layerForward(l, h, i === p.layers.length - 1 ? mask : mask.ref, s);
  });
  const first = h.reshape([B, T, H]).slice([], 0, []);
  const pooled = np.tanh(np.matmul(first, p.poolW).add(p.poolB));
  const logits = np.matmul(pooled, p.clsW).add(p.clsB);
  return np.mean(np.sum(onehot.mul(jax.nn.logSoftmax(logits, -1)), -1)).mul(-1);
}

/** Starts jax-js and selects `device` (default: WebGPU); returns the devices it offers. */
export async function jaxjsSetup(device: "webgpu" | "wasm" = "webgpu"): Promise<string[]> {
  const devices: string[] = await jax.init();
  if (!devices.includes(device)) {
    throw new Error(
      `Cannot benchmark jaxjs-${device}: jax.init() offers only ${devices.join(", ")}`,
    );
  }
  jax.defaultDevice(device as jax.Device);
  return devices;
}

/** jax-js on the device `jaxjsSetup` selected. */
export function jaxjsImpl(device: "webgpu" | "wasm" = "webgpu"): Impl {
  return {
    name: `jaxjs-${device}`,
    matmul(S: number): Promise<Case> {
      const a = np.array(hostArray(S * S, S)).reshape([S, S]);
      const b = np.array(hostArray(S * S, S + 1)).reshape([S, S]);
      const f = jax.jit((x: Arr, y: Arr) => np.matmul(x, y));
      return Promise.resolve({
        async run() {
          await f(a.ref, b.ref).data();
        },
        dispose() {
          a.dispose();
          b.dispose();
          f.dispose();
        },
      });
    },
    bertLayer(s: LayerShape): Promise<Case> {
      const { B, T, H } = s;
      const p = layerParams(s, 1);
      const x = np.array(hostArray(B * T * H, 7)).reshape([B * T, H]);
      const mask = np.zeros([B, 1, 1, T]);
      const g = jax.jit(
        jax.grad((p: LayerParams, x: Arr, m: Arr) => layerForward(p, x, m, s).sum()),
      );
      return Promise.resolve({
        async run() {
          const grads = g(jax.tree.ref(p), x.ref, mask.ref);
          await jax.blockUntilReady(grads);
          jax.tree.dispose(grads);
        },
        dispose() {
          jax.tree.dispose(p);
          x.dispose();
          mask.dispose();
          g.dispose();
        },
      });
    },
    trainStep(s: StepShape): Promise<Case> {
      const { B, T, H, vocab, classes } = s;
      const w = (r: number, c: number, seed: number) =>
        np.array(hostArray(r * c, seed).map((v) => v * 0.02)).reshape([r, c]);
      let params: ModelParams = {
        word: w(vocab, H, 101),
        pos: w(512, H, 102),
        type: w(2, H, 103),
        embG: np.ones([H]),
        embB: np.zeros([H]),
        layers: Array.from({ length: s.layers }, (_, l) => layerParams(s, 10 + l)),
        poolW: w(H, H, 104),
        poolB: np.zeros([H]),
        clsW: w(H, classes, 105),
        clsB: np.zeros([classes]),
      };
      let m = jax.tree.map((x: Arr) => np.zerosLike(x), jax.tree.ref(params)) as ModelParams;
      let v = jax.tree.map((x: Arr) => np.zerosLike(x), jax.tree.ref(params)) as ModelParams;
      const { ids, labels } = hostBatch(s);
      const i32 = (a: Int32Array<ArrayBuffer>) => np.array(a, { dtype: np.int32 });
      const idsA = jax.nn.oneHot(i32(ids), vocab);
      const onehot = jax.nn.oneHot(i32(labels), classes);
      const mask = np.zeros([B, 1, 1, T]);
      const valueAndGrad = jax.jit(
        jax.valueAndGrad((p: ModelParams, ids: Arr, y: Arr, mk: Arr) =>
          modelLoss(p, ids, y, mk, s)
        ),
      );
      const { lr, beta1, beta2, eps, weightDecay } = ADAMW;
      const update = jax.jit(
        (p: ModelParams, g: ModelParams, m: ModelParams, v: ModelParams, c1: Arr, c2: Arr) => {
          const m2 = jax.tree.map(
            (mi: Arr, gi: Arr) => mi.mul(beta1).add(gi.mul(1 - beta1)),
            m,
            jax.tree.ref(g),
          ) as ModelParams;
          const v2 = jax.tree.map(
            (vi: Arr, gi: Arr) => vi.mul(beta2).add(np.square(gi).mul(1 - beta2)),
            v,
            g,
          ) as ModelParams;
          const p2 = jax.tree.map(
            (pi: Arr, mi: Arr, vi: Arr) =>
              pi.mul(1 - lr * weightDecay).sub(
                mi.mul(c1.ref).div(np.sqrt(vi.mul(c2.ref)).add(eps)).mul(lr),
              ),
            p,
            jax.tree.ref(m2),
            jax.tree.ref(v2),
          ) as ModelParams;
          c1.dispose();
          c2.dispose();
          return [p2, m2, v2];
        },
      );
      let step = 0;
      return Promise.resolve({
        async run() {
          const [loss, grads] = valueAndGrad(
            jax.tree.ref(params),
            idsA.ref,
            onehot.ref,
            mask.ref,
          );
          step++;
          const c1 = np.array(1 / (1 - beta1 ** step)), c2 = np.array(1 / (1 - beta2 ** step));
          [params, m, v] = update(params, grads, m, v, c1, c2) as [
            ModelParams,
            ModelParams,
            ModelParams,
          ];
          await jax.blockUntilReady([params, m, v, loss]);
          loss.dispose();
        },
        dispose() {
          jax.tree.dispose([params, m, v, idsA, onehot, mask]);
          valueAndGrad.dispose();
          update.dispose();
        },
      });
    },
  };
}
