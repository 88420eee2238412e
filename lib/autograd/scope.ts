/**
 * Step-scoped ownership of temporaries. Every non-persistent tensor created while a scope is
 * open belongs to it and is released when the scope ends, unless it was kept. A training step
 * runs in one scope, so GPU memory after step 1000 equals memory after step 2.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import type { Tensor } from "./tensor.ts";

const stacks = new WeakMap<Gpu, Scope[]>();

/** A set of temporaries released together. */
export class Scope {
  readonly #gpu: Gpu;
  readonly #owned = new Set<Tensor>();
  #closed = false;

  constructor(gpu: Gpu) {
    this.#gpu = gpu;
  }

  /** Called by `Tensor` on creation. */
  track(t: Tensor): void {
    this.#owned.add(t);
  }

  /** Moves `t` out of this scope into the enclosing one (or to the caller, at top level). */
  keep(t: Tensor): Tensor {
    if (this.#owned.delete(t)) {
      const stack = stacks.get(this.#gpu) ?? [];
      const i = stack.indexOf(this);
      if (i > 0) stack[i - 1].track(t);
    }
    return t;
  }

  /** Number of live tensors this scope owns. */
  get size(): number {
    return this.#owned.size;
  }

  /** Releases every owned tensor and closes the scope. */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#owned) t.dispose();
    this.#owned.clear();
    const stack = stacks.get(this.#gpu);
    const i = stack?.lastIndexOf(this) ?? -1;
    if (stack && i >= 0) stack.splice(i, 1);
  }
}

/** Opens a scope on `gpu`; tensors created until `end()` belong to it. */
export function beginScope(gpu: Gpu): Scope {
  const scope = new Scope(gpu);
  let stack = stacks.get(gpu);
  if (!stack) stacks.set(gpu, stack = []);
  stack.push(scope);
  return scope;
}

/** The innermost open scope on `gpu`, if any. */
export function currentScope(gpu: Gpu): Scope | undefined {
  const stack = stacks.get(gpu);
  return stack?.[stack.length - 1];
}

/**
 * Runs `fn` in a scope and releases its temporaries afterwards; tensors in the result
 * (a tensor, an array or a record of tensors) are kept.
 */
export async function withScope<R>(gpu: Gpu, fn: () => R | Promise<R>): Promise<R> {
  const scope = beginScope(gpu);
  try {
    const result = await fn();
    keepAll(scope, result);
    return result;
  } finally {
    scope.end();
  }
}

function keepAll(scope: Scope, value: unknown): void {
  if (value && typeof value === "object") {
    if ("gpu" in value && "shape" in value && "dispose" in value) {
      scope.keep(value as Tensor);
    } else if (Array.isArray(value)) {
      for (const v of value) keepAll(scope, v);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const v of Object.values(value)) keepAll(scope, v);
    }
  }
}
