/**
 * Who frees a tensor. Three owners, in the order a tensor looks for one when it is made:
 *
 * 1. **A scope.** Every non-persistent tensor created while a scope is open belongs to it and
 *    is released when the scope ends, unless it was kept. A training step runs in one scope,
 *    so GPU memory after step 1000 equals memory after step 2.
 * 2. **The loose set** of its device, for tensors made outside any scope (a script or a
 *    notebook cell). A loose tensor is freed by `dispose()` (or `using`), by
 *    {@linkcode releaseTemporaries}, which frees every loose tensor of a device in one call,
 *    or by the garbage collector once nothing references it, as PyTorch frees a tensor whose
 *    last reference goes.
 * 3. **Nobody**, for persistent tensors (parameters, optimizer state): the caller disposes them.
 *
 * Model forwards called outside any scope open a {@linkcode forwardScope}: the outputs become
 * loose, and the intermediates are freed at once when no graph was recorded (inference under
 * `noGrad`), or by the `backward` that consumes the graph.
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

  /** True when `t` belongs to this scope. */
  owns(t: Tensor): boolean {
    return this.#owned.has(t);
  }

  /** Moves `t` out of this scope into the enclosing one (or to the loose set, at top level). */
  keep(t: Tensor): Tensor {
    if (this.#owned.delete(t)) {
      const stack = stacks.get(this.#gpu) ?? [];
      const i = stack.indexOf(this);
      if (i > 0) stack[i - 1].track(t);
      else t.loosen();
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
    this.detach();
  }

  /** Takes this scope off its device's stack without freeing anything (see `forwardScope`). */
  detach(): void {
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
 * (a tensor, or arrays, maps and plain objects holding tensors) are kept.
 *
 * @example Memory stays flat over a loop
 * ```ts ignore
 * for (const batch of batches) {
 *   const loss = await withScope(gpu, () => model.forward(batch).loss);
 *   console.log((await loss.read())[0]);
 *   loss.dispose();
 * }
 * ```
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

function keepAll(scope: Scope, value: unknown, into: Tensor[] = []): Tensor[] {
  if (value && typeof value === "object") {
    if ("gpu" in value && "shape" in value && "dispose" in value) {
      const t = value as Tensor;
      if (scope.owns(t)) into.push(t);
      scope.keep(t);
    } else if (Array.isArray(value)) {
      for (const v of value) keepAll(scope, v, into);
    } else if (value instanceof Map) {
      for (const v of value.values()) keepAll(scope, v, into);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const v of Object.values(value)) keepAll(scope, v, into);
    }
  }
  return into;
}

// --- Forward scopes ------------------------------------------------------------------------

/** Forward scopes whose graph a `backward` has not consumed yet, per device. */
const pendingForwards = new WeakMap<Gpu, Scope[]>();

/**
 * Runs a model's forward so that calling it outside any scope leaks nothing. Inside a scope
 * (the `Trainer`, `withScope`) it only runs `fn`: the enclosing scope owns everything. Outside,
 * `fn` runs in a scope of its own; the tensors of its result (a tensor, an array or a record of
 * them) become loose. The rest is freed now when the result carries no graph, or else by the
 * `backward` that walks that graph, as PyTorch frees what a graph saved once backward has run.
 */
export function forwardScope<R>(gpu: Gpu, fn: () => R): R {
  if (currentScope(gpu)) return fn();
  const scope = beginScope(gpu);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    scope.end();
    throw e;
  }
  const kept = keepAll(scope, result);
  if (kept.some((t) => t.node !== null)) {
    scope.detach();
    let list = pendingForwards.get(gpu);
    if (!list) pendingForwards.set(gpu, list = []);
    list.push(scope);
  } else {
    scope.end();
  }
  return result;
}

/** Called by `backward` with the tensors it walked: frees the forward scopes they came from. */
export function releaseWalkedForwards(gpu: Gpu, walked: Iterable<Tensor>): void {
  const list = pendingForwards.get(gpu);
  if (!list || list.length === 0) return;
  const done = new Set<Scope>();
  for (const t of walked) {
    for (const scope of list) if (!done.has(scope) && scope.owns(t)) done.add(scope);
    if (done.size === list.length) break;
  }
  if (done.size === 0) return;
  for (const scope of done) scope.end();
  pendingForwards.set(gpu, list.filter((s) => !done.has(s)));
}

// --- Loose tensors -------------------------------------------------------------------------

/** What the collector needs to free a loose tensor that nothing references any more. */
interface LooseEntry {
  ref: WeakRef<Tensor>;
  gpu: Gpu;
  free: () => void;
}

const loose = new WeakMap<Gpu, Set<LooseEntry>>();
const entries = new WeakMap<Tensor, LooseEntry>();
const collector = new FinalizationRegistry<LooseEntry>((entry) => {
  loose.get(entry.gpu)?.delete(entry);
  entry.free();
});

/**
 * Registers `t`, made outside any scope, as loose: `free` returns its storage once `t` is
 * garbage-collected without having been disposed. Called by `Tensor`.
 */
export function trackLoose(t: Tensor, free: () => void): void {
  if (entries.has(t)) return;
  const entry: LooseEntry = { ref: new WeakRef(t), gpu: t.gpu, free };
  entries.set(t, entry);
  let set = loose.get(t.gpu);
  if (!set) loose.set(t.gpu, set = new Set());
  set.add(entry);
  collector.register(t, entry, entry);
}

/** Called by `Tensor.dispose`: `t` is freed by hand, the collector must not free it again. */
export function untrackLoose(t: Tensor): void {
  const entry = entries.get(t);
  if (!entry) return;
  entries.delete(t);
  loose.get(t.gpu)?.delete(entry);
  collector.unregister(entry);
}

/** Number of loose tensors of `gpu` still alive (made outside scopes, not yet freed). */
export function looseCount(gpu: Gpu): number {
  return loose.get(gpu)?.size ?? 0;
}

/**
 * Frees every tensor of `gpu` that was made outside any scope and is still alive, and every
 * forward's intermediates still waiting for a backward: the one call a notebook or script
 * makes to get back to its parameters and optimizer state. Persistent tensors are untouched.
 *
 * @returns how many tensors were freed
 * @example
 * ```ts ignore
 * const out = model.forward(batch); // outputs are loose tensors
 * console.log(await out.logits.read());
 * releaseTemporaries(gpu);          // out.logits is disposed now
 * ```
 */
export function releaseTemporaries(gpu: Gpu): number {
  let freed = 0;
  for (const scope of pendingForwards.get(gpu) ?? []) {
    freed += scope.size;
    scope.end();
  }
  pendingForwards.delete(gpu);
  for (const entry of [...(loose.get(gpu) ?? [])]) {
    const t = entry.ref.deref();
    if (t && !t.disposed) {
      t.dispose();
      freed++;
    }
  }
  loose.get(gpu)?.clear();
  return freed;
}
