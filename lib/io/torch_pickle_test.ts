import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { CheckpointError } from "./errors.ts";
import { materializeTensor, unpickleTorch } from "./torch_pickle.ts";

/** Hand-assembled pickle opcodes (see CPython Lib/pickletools.py). */
const enc = new TextEncoder();
const op = {
  proto: (v: number) => [0x80, v],
  global: (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
  },
  int: (n: number) => [0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff],
  mark: [0x28],
  tuple: [0x74],
  tuple1: [0x85],
  emptyTuple: [0x29],
  reduce: [0x52],
  persid: [0x51],
  newFalse: [0x89],
  setitems: [0x75],
  stop: [0x2e],
};
const pickle = (...parts: number[][]) => new Uint8Array(parts.flat());

const orderedDict =
  () => [...op.global("collections", "OrderedDict"), ...op.emptyTuple, ...op.reduce];

/** A state dict pickle `{name: _rebuild_tensor_v2(storage "0" of `numel`, offset, size, stride)}`. */
function tensorPickle(t: { numel: number; offset: number; size: number[]; stride: number[] }) {
  return pickle(
    op.proto(2),
    orderedDict(),
    op.mark,
    op.str("w"),
    op.global("torch._utils", "_rebuild_tensor_v2"),
    op.mark,
    [...op.mark, ...op.str("storage"), ...op.global("torch", "FloatStorage")],
    [...op.str("0"), ...op.str("cpu"), ...op.int(t.numel), ...op.tuple, ...op.persid],
    op.int(t.offset),
    [...op.mark, ...t.size.flatMap(op.int), ...op.tuple],
    [...op.mark, ...t.stride.flatMap(op.int), ...op.tuple],
    op.newFalse,
    orderedDict(),
    op.tuple,
    op.reduce,
    op.setitems,
    op.stop,
  );
}

function throwsCheckpoint(fn: () => unknown, pattern: RegExp): void {
  throws(fn, (e) => {
    ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    ok(pattern.test(e.message), `message "${e.message}" does not match ${pattern}`);
    return true;
  });
}

Deno.test("unpickleTorch() refuses a pickle that names os.system", () => {
  const evil = pickle(
    op.proto(2),
    op.global("os", "system"),
    op.str("echo pwned"),
    op.tuple1,
    op.reduce,
    op.stop,
  );
  throwsCheckpoint(
    () => unpickleTorch(evil, { path: "evil.bin" }),
    /Cannot unpickle "evil.bin": global "os.system" is not allowed/,
  );
});

Deno.test("unpickleTorch() refuses builtins.eval reached through STACK_GLOBAL", () => {
  const short = (s: string) => [0x8c, s.length, ...enc.encode(s)];
  const evil = pickle(
    op.proto(4),
    short("builtins"),
    short("eval"),
    [0x93],
    short("1+1"),
    op.tuple1,
    op.reduce,
    op.stop,
  );
  throwsCheckpoint(() => unpickleTorch(evil, { path: "x" }), /global "builtins.eval"/);
});

Deno.test("unpickleTorch() reads a hand-made tensor reference", () => {
  const { tensors, storages, end } = unpickleTorch(
    tensorPickle({ numel: 6, offset: 1, size: [2, 2], stride: [1, 2] }),
    { path: "x" },
  );
  const w = tensors.get("w")!;
  deepEqual({ offset: w.offset, shape: w.shape, stride: w.stride }, {
    offset: 1,
    shape: [2, 2],
    stride: [1, 2],
  });
  deepEqual(storages.get("0"), { key: "0", dtype: "F32", numel: 6, viewOffset: 0, viewSize: 6 });
  ok(end > 0);
  // Non-contiguous gather: elements 1, 3 / 2, 4 of [0..5] read as [[1, 3], [2, 4]].
  const root = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
  const t = materializeTensor(w, root, { path: "x", name: "w" });
  deepEqual(Array.from(new Float32Array(t.data.buffer)), [1, 3, 2, 4]);
});

Deno.test("materializeTensor() rejects strides that reach past the storage", () => {
  const { tensors } = unpickleTorch(
    tensorPickle({ numel: 4, offset: 1, size: [2, 2], stride: [2, 1] }),
    { path: "x" },
  );
  throwsCheckpoint(
    () => materializeTensor(tensors.get("w")!, new Uint8Array(16), { path: "x", name: "w" }),
    /reach element 4, past storage "0" of 4/,
  );
  throwsCheckpoint(
    () => materializeTensor(tensors.get("w")!, new Uint8Array(12), { path: "x", name: "w" }),
    /storage "0" has 12 bytes, expected 16/,
  );
});

Deno.test("unpickleTorch() rejects truncated and unknown opcodes", () => {
  const good = tensorPickle({ numel: 1, offset: 0, size: [1], stride: [1] });
  for (const cut of [1, 10, 40, good.length - 1]) {
    throwsCheckpoint(() => unpickleTorch(good.subarray(0, cut), { path: "x" }), /Cannot unpickle/);
  }
  throwsCheckpoint(
    () => unpickleTorch(pickle(op.proto(2), [0xff], op.stop), { path: "x" }),
    /opcode 0xff is not supported/,
  );
  const hugeString = pickle(op.proto(2), [0x58, 0xff, 0xff, 0xff, 0x7f], op.stop);
  throwsCheckpoint(() => unpickleTorch(hugeString, { path: "x" }), /data ends inside an opcode/);
});

Deno.test("unpickleTorch() explains a top level that is not a state dict", () => {
  throwsCheckpoint(
    () => unpickleTorch(pickle(op.proto(2), op.int(3), op.stop), { path: "x" }),
    /top-level value is number 3, not a state dict/,
  );
  const wrapped = pickle(
    op.proto(2),
    [0x7d], // EMPTY_DICT
    op.str("state_dict"),
    [0x7d],
    [0x73], // SETITEM
    op.stop,
  );
  throwsCheckpoint(
    () => unpickleTorch(wrapped, { path: "x" }),
    /entry "state_dict" is dict of 0, not a tensor \(save model.state_dict\(\) itself/,
  );
});

Deno.test("unpickleTorch() refuses to call a storage class", () => {
  const bad = pickle(
    op.proto(2),
    op.global("torch", "FloatStorage"),
    op.emptyTuple,
    op.reduce,
    op.stop,
  );
  throwsCheckpoint(() => unpickleTorch(bad, { path: "x" }), /cannot call StorageType/);
  equal(unpickleTorch(pickle(op.proto(2), orderedDict(), op.stop), { path: "x" }).tensors.size, 0);
});

Deno.test("materializeTensor() expands zero strides but bounds the blow-up", () => {
  const ok1 = unpickleTorch(tensorPickle({ numel: 2, offset: 0, size: [3, 2], stride: [0, 1] }), {
    path: "x",
  });
  const root = new Uint8Array(new Float32Array([5, 6]).buffer);
  const t = materializeTensor(ok1.tensors.get("w")!, root, { path: "x", name: "w" });
  deepEqual(Array.from(new Float32Array(t.data.buffer)), [5, 6, 5, 6, 5, 6]);
  const huge = unpickleTorch(
    tensorPickle({ numel: 1, offset: 0, size: [1 << 30, 1 << 20], stride: [0, 0] }),
    { path: "x" },
  );
  throwsCheckpoint(
    () => materializeTensor(huge.tensors.get("w")!, new Uint8Array(4), { path: "x", name: "w" }),
    /expands storage "0" of 1 too far/,
  );
});

Deno.test("unpickle handles a list of 300000 items without overflowing the call stack", () => {
  const n = 300_000;
  const items = new Array(n).fill([0x4b, 7]).flat(); // BININT1 7
  const bytes = pickle(op.proto(2), [0x5d], op.mark, items, [0x65], op.stop); // EMPTY_LIST ( ... APPENDS
  throwsCheckpoint(() => unpickleTorch(bytes, { path: "x" }), /top-level value is list of 300000/);
});
