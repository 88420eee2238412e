/**
 * Mean squared error (PyTorch `F.mse_loss`, mean reduction) over `N` predictions: the
 * regression loss of single-output heads (STS-B).
 *
 * Shapes: input `[N]` (or `[N, 1]`, read as `[N]`), target `[N]`.
 * - forward: `sq[i] = (x_i − t_i)²`; the op averages over N (`kernels/reduce.ts`);
 * - backward: `dx_i = 2 (x_i − t_i) · dout / N` (no gradient to the target).
 *
 * A target that is NaN or infinite is reported through the device's fault flags
 * (`lib/gpu/faults.ts`), so the next readback throws instead of training on it.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `squared_error` | pred, tgt → out, fault | (x − t)² |
 * | `mse_backward` | pred, tgt, dout → dinput | 2 (x − t) · dout / N |
 *
 * See https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { FAULT_BINDING, FAULT_SPEC, REPORT_FAULT } from "./fault.ts";

/** `out[i] = (pred[i] − tgt[i])²`. */
export const squaredError = defineKernel({
  name: "squared_error",
  bindings: {
    pred: "read",
    tgt: "read",
    out: "write",
    [FAULT_BINDING]: FAULT_SPEC,
  },
  uniforms: { n: "u32", site: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${REPORT_FAULT}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let t = tgt[i];
  // inf and NaN have every exponent bit set (a bit test: NaN comparisons may be optimised away)
  if ((bitcast<u32>(t) & 0x7f800000u) == 0x7f800000u) { report_fault(u.site, bitcast<u32>(t), i); }
  let d = pred[i] - t;
  out[i] = d * d;
}`,
});

/** `dinput[i] = scale · (pred[i] − tgt[i]) · dout[0]` with scale = 2 / N. */
export const mseBackward = defineKernel({
  name: "mse_backward",
  bindings: { pred: "read", tgt: "read", dout: "read", dinput: "write" },
  uniforms: { n: "u32", scale: "f32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  dinput[i] = u.scale * (pred[i] - tgt[i]) * dout[0];
}`,
});

/** Reference: `mean((x − t)²)`. */
export function mseForwardRef(input: Float64Array, target: Float64Array): number {
  let s = 0;
  for (let i = 0; i < input.length; i++) s += (input[i] - target[i]) ** 2;
  return s / input.length;
}

/** Reference gradient with respect to the input: `2 (x − t) · dout / N`. */
export function mseBackwardRef(
  input: Float64Array,
  target: Float64Array,
  dout: number,
): Float64Array {
  return input.map((x, i) => 2 * (x - target[i]) * dout / input.length);
}

/** Cost of the forward (squared error and mean) over `n` predictions. */
export function mseCost({ n }: { n: number }): KernelCost {
  return { flops: 4 * n, bytes: 16 * n };
}
