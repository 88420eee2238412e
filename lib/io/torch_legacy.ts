/**
 * Read the legacy (PyTorch < 1.6, `_use_new_zipfile_serialization=False`) `torch.save` format:
 * five pickles back to back — magic number, protocol version 1001, sys info, the state dict,
 * the list of storage keys — then, for each key in that list, an 8-byte little-endian element
 * count followed by the storage's raw bytes. See `torch/serialization.py` (`_legacy_save`).
 *
 * @module
 */

import { type PickleHooks, unpickle } from "./_pickle.ts";
import { CheckpointError } from "./errors.ts";
import { DTYPE_SIZES, type HostTensor, type StateDict } from "./host_tensor.ts";
import { materializeTensor, unpickleTorch } from "./torch_pickle.ts";

/** The value of the first pickle in a legacy torch file. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/**
 * Whether `head` (the first bytes of a file) starts like a legacy torch file: pickle protocol 2
 * followed by `LONG1` of the magic number.
 *
 * @param head At least the first 4 bytes of the file.
 * @returns True for a legacy torch file.
 */
export function looksLikeTorchLegacy(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a &&
    head[3] === 0x0a;
}

/**
 * Read a legacy-format `torch.save` state dict into host tensors.
 *
 * @param path The checkpoint file.
 * @returns The state dict in pickle order; every tensor contiguous and owning its bytes.
 * @throws {CheckpointError} When the file is damaged, big-endian, or unsafe.
 *
 * @example Read an old checkpoint (needs a file)
 * ```ts ignore
 * import { readTorchLegacy } from "./torch_legacy.ts";
 * const sd = await readTorchLegacy("pytorch_model.bin");
 * ```
 */
export async function readTorchLegacy(path: string): Promise<StateDict> {
  const bytes = await Deno.readFile(path);
  const fail = (state: string): never => {
    throw new CheckpointError(`Cannot read "${path}" as a legacy torch file: ${state}`, {
      file: path,
    });
  };
  const plain: PickleHooks = {
    findGlobal: (m, n) => fail(`header pickle names global "${m}.${n}"`),
    persistentLoad: () => fail("header pickle has a persistent id"),
    call: () => fail("header pickle calls a function"),
    build: () => fail("header pickle sets object state"),
  };
  const magic = unpickle(bytes, plain, { path });
  if (magic.value !== LEGACY_MAGIC) fail("magic number is wrong (not a torch file)");
  const version = unpickle(bytes, plain, { path, start: magic.end });
  if (version.value !== PROTOCOL_VERSION) fail(`protocol version is ${version.value}, not 1001`);
  const info = unpickle(bytes, plain, { path, start: version.end });
  if (!(info.value instanceof Map) || info.value.get("little_endian") !== true) {
    fail("it was saved on a big-endian machine or its sys info is missing");
  }
  const { tensors, storages, end } = unpickleTorch(bytes, { path, start: info.end });
  const keys = unpickle(bytes, plain, { path, start: end });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) {
    fail("storage key list is not a list of strings");
  }

  const data = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.get(key) ?? fail(`storage "${key}" is stored but never used`);
    if (pos + 8 > bytes.length) fail(`file ends before storage "${key}"`);
    const count = view.getBigInt64(pos, true);
    if (count !== BigInt(s.numel)) {
      fail(`storage "${key}" holds ${count} elements, pickle says ${s.numel}`);
    }
    const length = s.numel * DTYPE_SIZES[s.dtype];
    pos += 8;
    if (pos + length > bytes.length) fail(`file ends inside storage "${key}" (truncated)`);
    data.set(key, bytes.subarray(pos, pos + length));
    pos += length;
  }
  const stateDict: StateDict = new Map<string, HostTensor>();
  for (const [name, ref] of tensors) {
    const root = data.get(ref.storage.key) ?? fail(`storage "${ref.storage.key}" is missing`);
    stateDict.set(name, materializeTensor(ref, root, { path, name }));
  }
  return stateDict;
}
