/**
 * Read and write the safetensors format: an 8-byte little-endian header length N, N bytes of
 * JSON (`{"__metadata__": {...}, "<key>": {"dtype", "shape", "data_offsets": [begin, end]}}`),
 * then the data section, where offsets are relative to its start. Format description:
 * https://huggingface.co/docs/safetensors/index (section "Format").
 *
 * The reader trusts nothing in the file: the header length is bounded before anything is
 * allocated, and every range is checked against the data section, the shape and the other
 * ranges (no overlaps and no holes, as the format requires) before its bytes are read.
 *
 * @module
 */

import { readExactAt, writeAll, writeFileAtomic } from "./_file.ts";
import { CheckpointError } from "./errors.ts";
import { type DType, DTYPE_SIZES, isDType, numel, type StateDict } from "./host_tensor.ts";

/** Largest header accepted, in bytes (the limit the reference implementation uses). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Where one tensor lives in a safetensors file. */
export interface SafetensorsEntry {
  /** Element type. */
  dtype: DType;
  /** Sizes, outermost first. */
  shape: number[];
  /** `[begin, end)` byte range relative to the data section. */
  dataOffsets: [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** The `__metadata__` string map (`{}` when absent). */
  metadata: Record<string, string>;
  /** Key → entry, in header order. */
  entries: Map<string, SafetensorsEntry>;
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
}

function fail(path: string, state: string): never {
  throw new CheckpointError(`Cannot read "${path}" as safetensors: ${state}`, { file: path });
}

function parseEntry(path: string, key: string, raw: unknown, dataSize: number): SafetensorsEntry {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(path, `entry "${key}" is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDType(dtype)) fail(path, `entry "${key}" has unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(path, `entry "${key}" has invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(path, `entry "${key}" has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataSize) {
    fail(
      path,
      `entry "${key}" data_offsets [${begin}, ${end}] lie outside the data section ` +
        `of ${dataSize} bytes (file truncated or corrupt)`,
    );
  }
  let count: number;
  try {
    count = numel(shape);
  } catch {
    fail(path, `entry "${key}" shape [${shape}] has too many elements`);
  }
  const need = count * DTYPE_SIZES[dtype];
  if (end - begin !== need) {
    fail(
      path,
      `entry "${key}" spans ${end - begin} bytes, but ${dtype} [${shape}] needs ${need}`,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [begin, end] };
}

function parseMetadata(path: string, raw: unknown): Record<string, string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail(path, `"__metadata__" is not an object`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") fail(path, `"__metadata__" value "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

/** Ranges must tile the data section exactly: no overlap, no hole, nothing left over. */
function checkTiling(path: string, entries: Map<string, SafetensorsEntry>, dataSize: number) {
  const sorted = [...entries].sort((a, b) =>
    a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]
  );
  let cursor = 0;
  let prev = "";
  for (const [key, { dataOffsets: [begin, end] }] of sorted) {
    if (begin < cursor) fail(path, `entries "${prev}" and "${key}" overlap at byte ${begin}`);
    if (begin > cursor) fail(path, `bytes ${cursor}..${begin} of the data section are unused`);
    cursor = end;
    prev = key;
  }
  if (cursor !== dataSize) {
    fail(path, `data section has ${dataSize - cursor} trailing bytes after the last tensor`);
  }
}

/**
 * Parse and validate a header from its JSON bytes.
 *
 * @param bytes The N header bytes (JSON, maybe padded with spaces).
 * @param sizes `dataSize`: bytes in the data section; `path`: file name for messages.
 * @returns The metadata and entries.
 * @throws {CheckpointError} On bad UTF-8 or JSON, bad entries, or ranges that overlap, leave
 * holes or fall outside the data section.
 *
 * @example Parse a one-tensor header
 * ```ts
 * import { parseSafetensorsHeader } from "./safetensors.ts";
 * import { deepEqual } from "node:assert/strict";
 * const json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
 * const h = parseSafetensorsHeader(new TextEncoder().encode(json), { dataSize: 8, path: "x" });
 * deepEqual(h.entries.get("w")?.shape, [2]);
 * ```
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  sizes: { dataSize: number; path: string },
): SafetensorsHeader {
  const { dataSize, path } = sizes;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    fail(path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(path, "header is not a JSON object");
  }
  let metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, raw] of Object.entries(json)) {
    if (key === "__metadata__") metadata = parseMetadata(path, raw);
    else entries.set(key, parseEntry(path, key, raw, dataSize));
  }
  checkTiling(path, entries, dataSize);
  return { metadata, entries, dataStart: 8 + bytes.length };
}

async function readHeaderFrom(file: Deno.FsFile, path: string): Promise<SafetensorsHeader> {
  const { size } = await file.stat();
  if (size < 8) fail(path, `file has ${size} bytes, fewer than the 8-byte header length`);
  const lenBytes = await readExactAt(file, { offset: 0, length: 8 }, path);
  const big = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (big > BigInt(MAX_HEADER_BYTES)) {
    fail(path, `header length ${big} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(big);
  if (n > size - 8) fail(path, `header length ${n} exceeds the ${size - 8} bytes after it`);
  if (n < 2) fail(path, `header length ${n} is too small for a JSON object`);
  const header = await readExactAt(file, { offset: 8, length: n }, path);
  return parseSafetensorsHeader(header, { dataSize: size - 8 - n, path });
}

/**
 * Read and validate only the header of a safetensors file.
 *
 * @param path The `.safetensors` file.
 * @returns Metadata, entries and the data section's offset.
 * @throws {CheckpointError} When the file is not a valid safetensors file.
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = await Deno.open(path, { read: true });
  try {
    return await readHeaderFrom(file, path);
  } finally {
    file.close();
  }
}

/**
 * Read a whole safetensors file. Each tensor gets its own buffer, read straight from the file
 * after its range has been validated.
 *
 * @param path The `.safetensors` file.
 * @returns The tensors in header order and the `__metadata__` map.
 * @throws {CheckpointError} When the file is truncated, malformed or inconsistent.
 *
 * @example Read a checkpoint (needs a file)
 * ```ts ignore
 * import { readSafetensors } from "./safetensors.ts";
 * const { stateDict } = await readSafetensors("model.safetensors");
 * console.log(stateDict.get("embeddings.word_embeddings.weight")?.shape);
 * ```
 */
export async function readSafetensors(
  path: string,
): Promise<{ stateDict: StateDict; metadata: Record<string, string> }> {
  const file = await Deno.open(path, { read: true });
  try {
    const header = await readHeaderFrom(file, path);
    const stateDict: StateDict = new Map();
    for (const [key, { dtype, shape, dataOffsets: [begin, end] }] of header.entries) {
      const data = await readExactAt(
        file,
        { offset: header.dataStart + begin, length: end - begin },
        path,
      );
      stateDict.set(key, { dtype, shape, data });
    }
    return { stateDict, metadata: header.metadata };
  } finally {
    file.close();
  }
}

/**
 * Build the header bytes for `stateDict`: keys sorted, data laid out in that order, padded
 * with spaces so that the data section starts on an 8-byte boundary.
 *
 * @param stateDict Tensors to describe.
 * @param metadata The `__metadata__` map.
 * @returns The 8-byte length prefix plus header, and the key order of the data section.
 * @throws {TypeError} When a tensor's byte length does not match its dtype and shape.
 */
export function encodeSafetensorsHeader(
  stateDict: StateDict,
  metadata: Record<string, string>,
): { prefix: Uint8Array; order: string[] } {
  const order = [...stateDict.keys()].sort();
  // Built by hand: JSON.stringify of an object would move integer-like keys ("0") first.
  const parts = [`"__metadata__":${JSON.stringify(metadata)}`];
  let offset = 0;
  for (const key of order) {
    if (key === "__metadata__") throw new TypeError(`Cannot save key "__metadata__": reserved`);
    const t = stateDict.get(key)!;
    const need = numel(t.shape) * (DTYPE_SIZES[t.dtype] ?? NaN);
    if (t.data.byteLength !== need) {
      throw new TypeError(
        `Cannot save "${key}": ${t.dtype} [${t.shape}] needs ${need} bytes, ` +
          `data has ${t.data.byteLength}`,
      );
    }
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + need] };
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(entry)}`);
    offset += need;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const prefix = new Uint8Array(8 + padded).fill(0x20);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded), true);
  prefix.set(json, 8);
  return { prefix, order };
}

/**
 * Write `stateDict` as a safetensors file, atomically (temporary file in the same folder,
 * then rename). Keys are sorted; metadata defaults to `{"format": "pt"}` as transformers
 * writes it.
 *
 * @param path Destination file.
 * @param stateDict Tensors to save.
 * @param options `metadata`: the `__metadata__` map.
 * @throws {TypeError} When a tensor's byte length does not match its dtype and shape.
 *
 * @example Save and read back
 * ```ts
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * import { hostTensorFromFloat32 } from "./host_tensor.ts";
 * import { deepEqual } from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, new Map([["w", hostTensorFromFloat32([2], new Float32Array([1, 2]))]]));
 * const { stateDict, metadata } = await readSafetensors(path);
 * deepEqual(stateDict.get("w")?.shape, [2]);
 * deepEqual(metadata, { format: "pt" });
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensors(
  path: string,
  stateDict: StateDict,
  options: { metadata?: Record<string, string> } = {},
): Promise<void> {
  const { prefix, order } = encodeSafetensorsHeader(
    stateDict,
    options.metadata ?? { format: "pt" },
  );
  await writeFileAtomic(path, async (file) => {
    await writeAll(file, prefix);
    for (const key of order) await writeAll(file, stateDict.get(key)!.data);
  });
}
