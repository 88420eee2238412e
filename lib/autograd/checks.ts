/**
 * The argument checks of ops: a tensor's dtype and shape, with one-line `TypeError`s naming the
 * op, the input and what was expected. `tensor.ts` re-exports them.
 *
 * @module
 */

import type { DType, Tensor } from "./tensor.ts";

/** Throws `TypeError` unless `t` is a tensor of dtype `dtype`. */
export function assertDType(t: Tensor, dtype: DType, action: string, label = "input"): void {
  if (typeof t !== "object" || t === null || !("dtype" in t)) {
    const got = t === undefined ? "missing" : `${t === null ? "null" : typeof t}, not a tensor`;
    throw new TypeError(`Cannot ${action}: "${label}" is ${got}; expected an ${dtype} tensor`);
  }
  if (t.dtype !== dtype) {
    throw new TypeError(`Cannot ${action}: "${label}" is ${t.dtype}, expected ${dtype}`);
  }
}

/**
 * Throws `TypeError` unless `t` has the given shape; `-1` matches any size, and named
 * dimensions in `dims` must agree across calls that share the record.
 */
export function assertShape(
  t: Tensor,
  expected: readonly (number | string)[],
  label: string,
  dims: Record<string, number> = {},
  action = "run op",
): Record<string, number> {
  const bad = () =>
    new TypeError(
      `Cannot ${action}: "${label}" is [${t.shape.join(", ")}], expected [${expected.join(", ")}]` +
        (Object.keys(dims).length
          ? ` with ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(", ")}`
          : ""),
    );
  if (t.shape.length !== expected.length) throw bad();
  expected.forEach((e, i) => {
    const d = t.shape[i];
    if (typeof e === "number") {
      if (e !== -1 && e !== d) throw bad();
    } else if (e in dims) {
      if (dims[e] !== d) throw bad();
    } else {
      dims[e] = d;
    }
  });
  return dims;
}

/** Product of a shape's dimensions. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless every dimension of `shape` is a non-negative integer. */
export function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TypeError(`Cannot create ${what}: shape [${shape.join(", ")}] is not valid`);
    }
  }
}
