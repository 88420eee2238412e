/**
 * Whether ops record the graph for backward. `noGrad` turns recording off for a block, as
 * `torch.no_grad()` does (evaluation, MT-Uncertainty scoring, optimizer updates).
 *
 * @module
 */

let enabled = true;

/** True when ops record their inputs for backward. */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Runs `fn` with graph recording off, as `torch.no_grad()`: ops record no graph and keep no
 * inputs for backward, so evaluation holds less memory. Restores the previous mode even if `fn`
 * throws; `fn` may be async.
 *
 * @example Inference
 * ```ts ignore
 * model.eval();
 * const { logits } = await noGrad(() => model.forward(batch));
 * ```
 */
export async function noGrad<R>(fn: () => R | Promise<R>): Promise<R> {
  const previous = enabled;
  enabled = false;
  try {
    return await fn();
  } finally {
    enabled = previous;
  }
}

/** Synchronous form of {@linkcode noGrad}. */
export function noGradSync<R>(fn: () => R): R {
  const previous = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}
