/**
 * Finite-difference gradient checks of float64 references (oracle (a) of the style guide):
 * with loss = Σ out·r for a random r, the analytical input gradients must match central
 * differences (eps 1e-6, atol 1e-5, rtol 1e-3: PyTorch's gradcheck defaults).
 *
 * @module
 */

import { assertAllClose } from "./allclose.ts";
import { Rng } from "./rng.ts";

/** A forward on float64 inputs. */
export type RefForward = (inputs: Float64Array[]) => Float64Array;
/** A backward: gradients of every checked input from the output gradient. */
export type RefBackward = (inputs: Float64Array[], dout: Float64Array) => Float64Array[];

/**
 * Checks `backward` against central differences of `forward` for the inputs listed in
 * `wrt` (default all).
 */
export function gradcheck(
  forward: RefForward,
  backward: RefBackward,
  inputs: Float64Array[],
  { seed = 1, eps = 1e-6, atol = 1e-5, rtol = 1e-3, wrt, label = "gradcheck" }: {
    seed?: number;
    eps?: number;
    atol?: number;
    rtol?: number;
    wrt?: number[];
    label?: string;
  } = {},
): void {
  const rng = new Rng(seed);
  const out = forward(inputs);
  const r = rng.array(out.length);
  const analytic = backward(inputs, r);
  const loss = (xs: Float64Array[]) => {
    const o = forward(xs);
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i] * r[i];
    return s;
  };
  for (const k of wrt ?? inputs.map((_, i) => i)) {
    const x = inputs[k];
    const numeric = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + eps;
      const up = loss(inputs);
      x[i] = keep - eps;
      const down = loss(inputs);
      x[i] = keep;
      numeric[i] = (up - down) / (2 * eps);
    }
    assertAllClose(analytic[k], numeric, { atol, rtol, seed, label: `${label} input ${k}` });
  }
}
