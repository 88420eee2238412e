/**
 * The torch side of unpickling a `torch.save(state_dict)`: which globals are allowed, what a
 * persistent id means, and how `_rebuild_tensor_v2(storage, offset, size, stride, ...)` turns
 * a storage into a tensor. Storage bytes are not read here: unpickling yields {@linkcode
 * TensorRef}s, and the container reader (zip or legacy) supplies the bytes afterwards.
 *
 * Allowed globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor{,_v2}`,
 * `torch._utils._rebuild_parameter{,_with_state}` and the typed storage classes
 * (`torch.FloatStorage`, ...). Anything else (`os.system`, `builtins.eval`, ...) is a
 * {@linkcode CheckpointError}, so a hostile file can build nothing but data.
 *
 * @module
 */

import { describe, isTuple, unpickle } from "./_pickle.ts";
import { CheckpointError } from "./errors.ts";
import { type DType, DTYPE_SIZES, type HostTensor } from "./host_tensor.ts";

/** Typed storage class name (`torch.<name>`) → dtype. */
export const STORAGE_DTYPES: Readonly<Record<string, DType>> = Object.freeze({
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
});

/** A storage named by a persistent id: `key` is its archive entry (or legacy key). */
export interface StorageRef {
  /** Key of the root storage (`archive/data/<key>` in the zip format). */
  key: string;
  /** Element type. */
  dtype: DType;
  /** Elements in the root storage. */
  numel: number;
  /** First element of this (legacy) storage view in the root storage; 0 otherwise. */
  viewOffset: number;
  /** Elements in this view (equals `numel` when it is not a view). */
  viewSize: number;
}

/** A tensor as pickled: a strided window on a storage. */
export interface TensorRef {
  /** Backing storage. */
  storage: StorageRef;
  /** First element, counted in elements from the start of `storage`. */
  offset: number;
  /** Sizes. */
  shape: number[];
  /** Strides in elements. */
  stride: number[];
}

/** What one `torch.save` pickle holds. */
export interface TorchPickle {
  /** Key → tensor reference, in pickle order. */
  tensors: Map<string, TensorRef>;
  /** Root storages by key. */
  storages: Map<string, StorageRef>;
  /** Offset just after the pickle's STOP opcode. */
  end: number;
}

class StorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}

class Callable {
  constructor(readonly name: string, readonly fn: (args: readonly unknown[]) => unknown) {}
}

function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === "object" && v !== null && "storage" in v && "stride" in v;
}

/**
 * Unpickle a torch state dict, allowing only the torch globals listed in the module doc.
 *
 * @param bytes The pickle bytes (a whole `data.pkl`, or a legacy file).
 * @param where `path` for messages; `start`: offset of the pickle in `bytes`.
 * @returns The tensor references, their storages and where the pickle ended.
 * @throws {CheckpointError} On a disallowed global, a malformed pickle, or a top-level value
 * that is not a dict of tensors.
 */
export function unpickleTorch(
  bytes: Uint8Array,
  where: { path: string; start?: number },
): TorchPickle {
  const { path } = where;
  const fail = (state: string): never => {
    throw new CheckpointError(`Cannot unpickle "${path}": ${state}`, { file: path });
  };
  const int = (v: unknown, what: string): number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0
      ? v
      : fail(`${what} is ${describe(v)}, not a non-negative integer`);
  const ints = (v: unknown, what: string): number[] =>
    isTuple(v) || Array.isArray(v)
      ? v.map((x, i) => int(x, `${what}[${i}]`))
      : fail(`${what} is ${describe(v)}, not a tuple`);

  const storages = new Map<string, StorageRef>();

  const rebuildTensor = (args: readonly unknown[]): TensorRef => {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    //                    backward_hooks[, metadata]); v1 stops after stride.
    if (args.length < 4) fail(`_rebuild_tensor got ${args.length} arguments, expected 4 or more`);
    const [storage, offset, size, stride] = args;
    if (typeof storage !== "object" || storage === null || !("viewSize" in storage)) {
      fail(`_rebuild_tensor got ${describe(storage)} instead of a storage`);
    }
    const shape = ints(size, "tensor size");
    const strides = ints(stride, "tensor stride");
    if (shape.length !== strides.length) {
      fail(`size [${shape}] and stride [${strides}] differ in rank`);
    }
    return {
      storage: storage as StorageRef,
      offset: int(offset, "storage offset"),
      shape,
      stride: strides,
    };
  };
  const rebuildParameter = (args: readonly unknown[]) =>
    isTensorRef(args[0]) ? args[0] : fail(`_rebuild_parameter got ${describe(args[0])}`);

  const globals = new Map<string, unknown>([
    [
      "collections.OrderedDict",
      new Callable("collections.OrderedDict", (args) => {
        if (args.length) fail("OrderedDict with arguments is not supported");
        return new Map();
      }),
    ],
    ["torch._utils._rebuild_tensor_v2", new Callable("_rebuild_tensor_v2", rebuildTensor)],
    ["torch._utils._rebuild_tensor", new Callable("_rebuild_tensor", rebuildTensor)],
    ["torch._utils._rebuild_parameter", new Callable("_rebuild_parameter", rebuildParameter)],
    [
      "torch._utils._rebuild_parameter_with_state",
      new Callable("_rebuild_parameter_with_state", rebuildParameter),
    ],
  ]);
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
    globals.set(`torch.${name}`, new StorageType(name, dtype));
  }

  const persistentLoad = (pid: unknown): StorageRef => {
    // ("storage", storage_type, key, location, numel[, view_metadata])
    if (!isTuple(pid) || pid.length < 5 || pid[0] !== "storage") {
      fail(`persistent id ${describe(pid)} is not a ("storage", ...) tuple`);
    }
    const [, type, key, , count, view] = pid as readonly unknown[];
    if (!(type instanceof StorageType)) {
      fail(`storage type ${describe(type)} is not a storage class`);
    }
    if (typeof key !== "string" || !/^[\w.-]+$/.test(key)) {
      fail(`storage key ${describe(key)} is invalid`);
    }
    const { dtype } = type as StorageType;
    const numel = int(count, `storage "${key}" size`);
    let root = storages.get(key as string);
    if (!root) {
      root = { key: key as string, dtype, numel, viewOffset: 0, viewSize: numel };
      storages.set(key as string, root);
    } else if (root.dtype !== dtype || root.numel !== numel) {
      fail(`storage "${key}" is used as ${dtype}[${numel}] and ${root.dtype}[${root.numel}]`);
    }
    if (view === undefined || view === null) return root;
    // Legacy (pre-1.6) storage views: (view_key, offset, view_size) in elements of the root.
    if (!isTuple(view) || view.length !== 3) fail(`storage view ${describe(view)} is invalid`);
    const viewOffset = int((view as readonly unknown[])[1], "view offset");
    const viewSize = int((view as readonly unknown[])[2], "view size");
    if (viewOffset + viewSize > numel) {
      fail(`storage view [${viewOffset}, +${viewSize}) lies outside storage "${key}" of ${numel}`);
    }
    return { ...root, viewOffset, viewSize };
  };

  const { value, end } = unpickle(bytes, {
    findGlobal(module, name) {
      const g = globals.get(`${module}.${name}`);
      if (g === undefined) {
        fail(
          `global "${module}.${name}" is not allowed (only torch tensors, storages and ` +
            `collections.OrderedDict may appear in a state dict)`,
        );
      }
      return g;
    },
    persistentLoad,
    call(callable, args) {
      if (!(callable instanceof Callable)) fail(`cannot call ${describe(callable)}`);
      return (callable as Callable).fn(args);
    },
    build(obj, state) {
      // A state dict's OrderedDict carries `_metadata` (module versions): not needed here.
      if (obj instanceof Map || isTensorRef(obj)) return obj;
      return fail(`cannot set state ${describe(state)} on ${describe(obj)}`);
    },
  }, where);

  if (!(value instanceof Map)) fail(`top-level value is ${describe(value)}, not a state dict`);
  const tensors = new Map<string, TensorRef>();
  for (const [k, v] of value as Map<unknown, unknown>) {
    if (typeof k !== "string") fail(`state dict key ${describe(k)} is not a string`);
    if (!isTensorRef(v)) {
      fail(
        `entry "${k}" is ${describe(v)}, not a tensor (save model.state_dict() itself, ` +
          `not a dict that wraps it)`,
      );
    }
    tensors.set(k as string, v as TensorRef);
  }
  return { tensors, storages, end };
}

/** Most elements a tensor may have beyond its storage's size (zero-stride expansion). */
const MAX_EXPANDED = 1 << 26;

/**
 * Copy a tensor out of its storage's bytes into a contiguous row-major {@linkcode HostTensor}.
 * Non-contiguous strides are gathered element by element.
 *
 * @param ref The tensor reference.
 * @param rootBytes All bytes of `ref.storage`'s root storage.
 * @param where `path` and tensor `name` for messages.
 * @returns A tensor that owns its bytes.
 * @throws {CheckpointError} When the storage has the wrong length or the strided window
 * reaches past it.
 */
export function materializeTensor(
  ref: TensorRef,
  rootBytes: Uint8Array,
  where: { path: string; name: string },
): HostTensor {
  const { storage, offset, shape, stride } = ref;
  const size = DTYPE_SIZES[storage.dtype];
  const fail = (state: string): never => {
    throw new CheckpointError(`Cannot load "${where.name}" from "${where.path}": ${state}`, {
      file: where.path,
    });
  };
  if (rootBytes.length !== storage.numel * size) {
    fail(
      `storage "${storage.key}" has ${rootBytes.length} bytes, expected ${storage.numel * size}`,
    );
  }
  let count = 1;
  let last = offset; // highest element index touched, relative to the view
  for (let d = 0; d < shape.length; d++) {
    count *= shape[d];
    last += (shape[d] - 1) * stride[d];
  }
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(last)) fail("shape is too large");
  if (count === 0) return { dtype: storage.dtype, shape: [...shape], data: new Uint8Array(0) };
  if (last >= storage.viewSize) {
    fail(
      `size [${shape}], stride [${stride}] at offset ${offset} reach element ${last}, ` +
        `past storage "${storage.key}" of ${storage.viewSize}`,
    );
  }
  // Zero strides (expand) can make a tensor larger than its storage; bound that blow-up.
  if (count > storage.viewSize && count > MAX_EXPANDED) {
    fail(`size [${shape}] expands storage "${storage.key}" of ${storage.viewSize} too far`);
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(count * size);
  } catch {
    return fail(`cannot allocate ${count * size} bytes`);
  }
  const base = (storage.viewOffset + offset) * size;
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) {
    out.set(rootBytes.subarray(base, base + count * size));
    return { dtype: storage.dtype, shape: [...shape], data: out };
  }
  // Odometer over the index space; `src` follows the strides.
  const index = new Array(shape.length).fill(0);
  let src = base;
  for (let i = 0; i < count; i++) {
    out.set(rootBytes.subarray(src, src + size), i * size);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        src += stride[d] * size;
        break;
      }
      src -= (shape[d] - 1) * stride[d] * size;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape: [...shape], data: out };
}
