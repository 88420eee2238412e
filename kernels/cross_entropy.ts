/**
 * Softmax cross-entropy with integer labels (PyTorch `F.cross_entropy`, mean reduction) and
 * the normalised prediction entropy that the MT-Uncertainty sampler scores with.
 *
 * Shapes: logits `[N, K]`, labels i32 `[N]`. Per row, with m = max_k x and
 * lse = m + ln Σ_k e^(x_k − m) (stable for large logits):
 * - forward: loss_n = lse_n − x[n, label_n]; the op then averages over N (`kernels/reduce.ts`);
 * - backward: dlogits[n, k] = (e^(x[n, k] − lse_n) − [k = label_n]) · dout / N;
 * - entropy: H_n = ln s − (Σ_k e^(x_k − m)(x_k − m)) / s with s = Σ_k e^(x_k − m), divided by
 *   ln K + eps (0 when K = 1).
 *
 * Labels outside `[0, K)` are clamped in the kernel so that no read goes out of bounds; the
 * forward reports the first one through the device's fault flags (`lib/gpu/faults.ts`), so the
 * next readback throws instead of returning the loss of a clamped label.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `cross_entropy_forward` | logits, labels → loss, lse, fault | per-row loss and log-sum-exp |
 * | `cross_entropy_backward` | logits, labels, lse, dout → dlogits | the gradient |
 * | `normalized_entropy` | logits → out | H(softmax(row)) / (ln K + eps) |
 *
 * See https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { ROW_OF, TREE_MAX, TREE_SUM, TREE_SUM2 } from "./_reduce_wgsl.ts";
import { FAULT_BINDING, FAULT_SPEC, REPORT_FAULT } from "./fault.ts";

const I32_READ = { access: "read", type: "i32" } as const;

/** Per-row loss `lse − x[label]` and `lse`, one workgroup per row. */
export const crossEntropyForward = defineKernel({
  name: "cross_entropy_forward",
  bindings: {
    logits: "read",
    labels: I32_READ,
    loss: "write",
    lse: "write",
    [FAULT_BINDING]: FAULT_SPEC,
  },
  uniforms: { rows: "u32", k: "u32", site: "u32" },
  overrides: { WG: 64 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${TREE_MAX}${TREE_SUM}${ROW_OF}${REPORT_FAULT}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.k;
  var m = -3.4028235e38;
  for (var j = lid; j < u.k; j += WG) { m = max(m, logits[base + j]); }
  m = tree_max(lid, m);
  var s = 0.0;
  for (var j = lid; j < u.k; j += WG) { s += exp(logits[base + j] - m); }
  s = tree_sum(lid, s);
  if (lid == 0u) {
    let raw = labels[row];
    if (raw < 0 || raw >= i32(u.k)) { report_fault(u.site, bitcast<u32>(raw), row); }
    let label = u32(clamp(raw, 0, i32(u.k) - 1));
    let l = m + log(s);
    lse[row] = l;
    loss[row] = l - logits[base + label];
  }
}`,
});

/** `dlogits = (softmax − onehot) · dout[0] · inv_rows`, one invocation per logit. */
export const crossEntropyBackward = defineKernel({
  name: "cross_entropy_backward",
  bindings: { logits: "read", labels: I32_READ, lse: "read", dout: "read", dlogits: "write" },
  uniforms: { n: "u32", k: "u32", inv_rows: "f32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let row = i / u.k;
  let label = u32(clamp(labels[row], 0, i32(u.k) - 1));
  let p = exp(logits[i] - lse[row]);
  let onehot = select(0.0, 1.0, i % u.k == label);
  dlogits[i] = (p - onehot) * dout[0] * u.inv_rows;
}`,
});

/** `out[n] = H(softmax(logits[n])) · inv_log_k`, one workgroup per row. */
export const normalizedEntropyKernel = defineKernel({
  name: "normalized_entropy",
  bindings: { logits: "read", out: "write" },
  uniforms: { rows: "u32", k: "u32", inv_log_k: "f32" },
  overrides: { WG: 64 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${TREE_MAX}${TREE_SUM2}${ROW_OF}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.k;
  var m = -3.4028235e38;
  for (var j = lid; j < u.k; j += WG) { m = max(m, logits[base + j]); }
  m = tree_max(lid, m);
  // (s, t) = (Σ e, Σ e·(x − m)); a zero e contributes nothing even when x − m is -inf.
  var st = vec2<f32>(0.0);
  for (var j = lid; j < u.k; j += WG) {
    let d = logits[base + j] - m;
    let e = exp(d);
    st += vec2<f32>(e, select(0.0, e * d, e > 0.0));
  }
  st = tree_sum2(lid, st);
  if (lid == 0u) {
    let h = max(log(st.x) - st.y / st.x, 0.0);
    out[row] = h * u.inv_log_k;
  }
}`,
});

// ---- float64 references -------------------------------------------------------------------

function rowLse(x: Float64Array, base: number, k: number): number {
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, x[base + j]);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(x[base + j] - m);
  return m + Math.log(s);
}

/** Reference: mean cross-entropy of `logits` `[N, K]` against `labels` `[N]`. */
export function crossEntropyForwardRef(
  logits: Float64Array,
  labels: ArrayLike<number>,
  k: number,
): number {
  const rows = labels.length;
  let total = 0;
  for (let n = 0; n < rows; n++) total += rowLse(logits, n * k, k) - logits[n * k + labels[n]];
  return total / rows;
}

/** Reference gradient: `(softmax − onehot) · dout / N`. */
export function crossEntropyBackwardRef(
  logits: Float64Array,
  labels: ArrayLike<number>,
  k: number,
  dout: number,
): Float64Array {
  const rows = labels.length;
  const d = new Float64Array(rows * k);
  for (let n = 0; n < rows; n++) {
    const l = rowLse(logits, n * k, k);
    for (let j = 0; j < k; j++) {
      const p = Math.exp(logits[n * k + j] - l);
      d[n * k + j] = (p - (j === labels[n] ? 1 : 0)) * dout / rows;
    }
  }
  return d;
}

/** Reference: `H(softmax(row)) / (ln K + eps)` per row, 0 when K = 1. */
export function normalizedEntropyRef(logits: Float64Array, k: number, eps = 0): Float64Array {
  const rows = logits.length / k;
  const out = new Float64Array(rows);
  if (k === 1) return out;
  for (let n = 0; n < rows; n++) {
    const l = rowLse(logits, n * k, k);
    let h = 0;
    for (let j = 0; j < k; j++) {
      const lp = logits[n * k + j] - l;
      h -= Math.exp(lp) * lp;
    }
    out[n] = h / (Math.log(k) + eps);
  }
  return out;
}

/** Cost of the forward over `[rows, k]` logits (exp counted as one flop). */
export function crossEntropyCost({ rows, k }: { rows: number; k: number }): KernelCost {
  return { flops: 4 * rows * k, bytes: 4 * (rows * k + 3 * rows) };
}

/** Cost of the backward over `[rows, k]` logits. */
export function crossEntropyBackwardCost({ rows, k }: { rows: number; k: number }): KernelCost {
  return { flops: 5 * rows * k, bytes: 4 * (2 * rows * k + 2 * rows) };
}
