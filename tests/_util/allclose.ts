/**
 * Tolerance comparison for kernel-vs-reference tests: passes when |a − b| ≤ atol + rtol·|b|
 * for every element, and otherwise throws with the count, the worst error, the first failing
 * index and both values there.
 *
 * @module
 */

/** Options for {@linkcode assertAllClose}. */
export interface CloseOptions {
  atol?: number;
  rtol?: number;
  /** Printed with a failure so that it can be reproduced. */
  seed?: number;
  label?: string;
}

/** Asserts that `actual` matches `expected` elementwise within `atol + rtol·|expected|`. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-4, seed, label = "values" }: CloseOptions = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} differs from expected ${expected.length}`);
  }
  let bad = 0, first = -1, worst = 0, worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    const err = Math.abs(a - b);
    const ok = err <= atol + rtol * Math.abs(b) || (Number.isNaN(a) && Number.isNaN(b)) ||
      (a === b);
    if (!ok || Number.isNaN(err)) {
      bad++;
      if (first < 0) first = i;
    }
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  if (bad > 0) {
    throw new Error(
      `${label}: ${bad} of ${actual.length} outside atol=${atol} rtol=${rtol}; max error ${worst} ` +
        `at ${worstAt}; first at ${first}: got ${actual[first]}, expected ${expected[first]}` +
        (seed === undefined ? "" : `; seed ${seed}`),
    );
  }
}

/** max|a − b| / max|b|: the relative error measure used for whole-layer parity checks. */
export function relMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}
