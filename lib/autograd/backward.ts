/**
 * The reverse-mode walk: orders the recorded graph topologically from the loss, calls each
 * node's backward with the gradient of its output, and sums gradients that meet. Leaf tensors
 * that require gradients (parameters) accumulate into their persistent `.grad`, as PyTorch's
 * `.backward()` does, until `zeroGrad`.
 *
 * @module
 */

import { accumulateInto, binary, fillTensor, zeros } from "./accumulate.ts";
import { noGradSync } from "./grad_mode.ts";
import { beginScope, currentScope, releaseWalkedForwards } from "./scope.ts";
import { empty, Tensor } from "./tensor.ts";

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: BERT-large graphs are deep enough to overflow a recursive walk.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t.node) {
      for (const input of Object.values(t.node.inputs)) {
        if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
      }
    }
  }
  return order;
}

/**
 * Backpropagates from `root`. A scalar root gets gradient 1; otherwise pass `grad` of the
 * same shape. The graph is freed as it is walked, so backward runs once per forward; the
 * intermediates of a model forward called outside any scope are freed with it (see
 * `forwardScope`), while the forward's outputs stay readable.
 *
 * @throws {TypeError} when `root` does not require a gradient or `grad` has the wrong size.
 * @example Gradients of a linear layer's mean output
 * ```ts ignore
 * const layer = new Linear(3, 2).materialize(gpu, 42);
 * const x = fromArray(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
 * backward(mean({ x: layer.forward(x) })); // a [1] root gets gradient 1
 * console.log(await layer.weight.value.grad!.read()); // ∂mean/∂W, [2, 3]
 * zeroGrad(layer);
 * ```
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) {
    throw new TypeError("Cannot run backward: the root tensor does not require a gradient");
  }
  if (!grad && root.size !== 1) {
    throw new TypeError(
      `Cannot run backward: root is [${root.shape.join(", ")}], pass a gradient for non-scalars`,
    );
  }
  if (grad && grad.size !== root.size) {
    throw new TypeError(
      `Cannot run backward: gradient is [${grad.shape.join(", ")}], root is [${
        root.shape.join(", ")
      }]`,
    );
  }
  // Outside any scope, the walk's own temporaries (every intermediate gradient) are freed when
  // it ends; leaf gradients are persistent and stay.
  const own = currentScope(root.gpu) ? null : beginScope(root.gpu);
  try {
    walk(root, grad);
  } finally {
    own?.end();
  }
}

function walk(root: Tensor, grad: Tensor | undefined): void {
  noGradSync(() => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, grad ?? fillTensor(empty(root.gpu, root.shape), 1));
    const order = topoOrder(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        // Only a gradient this walk computed may become a leaf's: never the caller's `grad`
        // nor a tensor made before the root; `assign` also refuses a buffer that a view or an
        // earlier leaf (an op such as `add` hands one tensor to two inputs) holds too.
        const adopt = g.id > root.id && g !== grad && !g.persistent;
        if (!t.grad) {
          t.grad = firstGrad(t, g, adopt);
          t.grad.name = t.name ? `${t.name}.grad` : undefined;
        } else if (t.grad.pendingFill === 0 && t.grad.dtype === g.dtype) {
          t.grad.assign(g, adopt); // zeroGrad's zeros are overwritten, never dispatched
        } else {
          accumulateInto(t.grad, g);
        }
        continue;
      }
      const node = t.node;
      const inputGrads = node.backward(g);
      for (const [name, input] of Object.entries(node.inputs)) {
        const ig = inputGrads[name];
        if (!input.requiresGrad || !ig) continue;
        if (ig.size !== input.size) {
          throw new Error(
            `Cannot run backward of "${node.opName}": gradient for "${name}" is ` +
              `[${ig.shape.join(", ")}], input is [${input.shape.join(", ")}]`,
          );
        }
        const prev = grads.get(input);
        // Out of place: an op may return the same tensor as the gradient of two inputs.
        grads.set(input, prev ? binary(prev, ig, 0, "add") : ig);
      }
      if (!t.persistent) t.node = null;
    }
    releaseWalkedForwards(root.gpu, order);
  });
}

/**
 * A leaf's first gradient, persistent: `g` itself when `adopt` allows (see `Tensor.assign`),
 * else a copy (one buffer copy, where zeroing and then accumulating would run two kernels), or
 * zeros plus `g` when the dtypes differ.
 */
function firstGrad(t: Tensor, g: Tensor, adopt: boolean): Tensor {
  if (g.dtype !== t.dtype) {
    const grad = zeros(t.gpu, t.shape, { persistent: true });
    accumulateInto(grad, g);
    return grad;
  }
  const grad = new Tensor(t.gpu, t.shape, { dtype: t.dtype, persistent: true });
  grad.assign(g, adopt);
  return grad;
}
