/**
 * The binary format of the feature cache (`cache.ts`): encoding, and decoding that trusts
 * nothing it has not checked.
 *
 * Layout, little-endian, every section 4-byte aligned so the arrays are views of the file:
 *
 * | bytes | content |
 * | --- | --- |
 * | 8 | magic `CAMTLFTS` |
 * | 4 | format version (u32) |
 * | 4 | header length h (u32, a multiple of 4) |
 * | h | header JSON (key, counts, label dtype, skipped rows, source file size), space-padded |
 * | 4·(N+1) | offsets (i32) |
 * | 4·T | input ids (i32) |
 * | T, padded to 4 | token types (u8) |
 * | 4·N | labels (i32 or f32; absent for test data) |
 * | … | each array of the set's `extras`, in `EXTRA_ARRAYS` order, padded to 4 bytes |
 * | 4 | CRC-32 of everything before it |
 *
 * The header also holds the extras' layout and the set's JSON `meta`; a multiple-choice set has
 * N·choices + 1 offsets. Version 1 files (no extras) fail the version check and are rebuilt.
 *
 * A file that passes the checksum is still checked against the layout's rules before use.
 *
 * @module
 */

import { crc32 } from "./_crc32.ts";
import { DataError } from "./data_error.ts";
import {
  type ExampleMeta,
  extrasByteLength,
  type ExtrasLayout,
  extrasLayout,
  extrasViews,
} from "./feature_extras.ts";
import { type FeatureKey, FeatureSet, type LabelArray } from "./features.ts";
import { getTask } from "./tasks.ts";

const MAGIC = "CAMTLFTS";
/** Version of the cache layout; bump it when the layout or the features change. */
export const FEATURE_CACHE_VERSION = 2;
const PREAMBLE = 16;

interface CacheHeader {
  key: FeatureKey;
  count: number;
  tokens: number;
  labels: "int32" | "float32" | "none";
  skipped: number;
  padId: number;
  sourceBytes: number | null;
  extras: ExtrasLayout | null;
  meta: ExampleMeta | null;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const align4 = (n: number) => (n + 3) & ~3;

function asBytes(a: Int32Array | Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]/g, "_");
}

/**
 * The cache file name for a key, e.g.
 * `cached_train_sst-2_task6_len128_cased_7d0a2f5b9c1e4a3d.features`.
 */
export function featureCacheName(key: FeatureKey): string {
  const casing = key.doLowerCase ? "uncased" : "cased";
  const windows = key.docStride === undefined
    ? ""
    : `_stride${key.docStride}_query${key.maxQueryLength}`;
  return `cached_${safe(key.split)}_${
    safe(key.task)
  }_task${key.taskId}_len${key.maxSeqLength}${windows}_${casing}_${
    safe(key.vocabHash.slice(0, 16))
  }.features`;
}

/** Options of {@linkcode encodeFeatureCache} and {@linkcode writeFeatureCache}. */
export interface EncodeFeatureCacheOptions {
  /** Size of the TSV the features came from, checked on load to catch replaced data. */
  sourceBytes?: number | null;
}

/** Serialises a feature set into the cache layout. */
export function encodeFeatureCache(
  set: FeatureSet,
  { sourceBytes = null }: EncodeFeatureCacheOptions = {},
): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error("Cannot write a feature cache: this host is big-endian");
  const n = set.size, sequences = set.offsets.length - 1, tokens = set.inputIds.length;
  const labels = set.labels === null
    ? "none"
    : set.labels instanceof Float32Array
    ? "float32"
    : "int32";
  const x = set.extras;
  const layout = x ? extrasLayout(x) : null;
  const header: CacheHeader = {
    key: set.key,
    count: n,
    tokens,
    labels,
    skipped: set.skipped,
    padId: set.padId,
    sourceBytes,
    extras: layout,
    meta: set.meta,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const h = align4(json.length);
  const size = PREAMBLE + h + 4 * (sequences + 1) + 4 * tokens + align4(tokens) +
    (set.labels ? 4 * n : 0) +
    (layout ? extrasByteLength(layout, n, tokens) : 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, FEATURE_CACHE_VERSION, true);
  view.setUint32(12, h, true);
  out.fill(0x20, PREAMBLE, PREAMBLE + h);
  out.set(json, PREAMBLE);
  json = new Uint8Array(0);
  let at = PREAMBLE + h;
  const parts = [set.offsets, set.inputIds, set.tokenTypeIds, ...(set.labels ? [set.labels] : [])];
  for (const name of layout?.arrays ?? []) parts.push(x![name]!);
  for (const part of parts) {
    out.set(asBytes(part), at);
    at += align4(part.byteLength);
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

function corrupt(file: string, why: string): DataError {
  return new DataError(`Cannot use feature cache "${file}": ${why}`, { file });
}

const KEY_FIELDS = [
  ...["task", "taskId", "split", "vocabHash", "doLowerCase", "maxSeqLength"] as const,
  ...["docStride", "maxQueryLength"] as const,
];
const sameKey = (a: FeatureKey, b: FeatureKey) => KEY_FIELDS.every((k) => a[k] === b[k]);

/** Options of {@linkcode decodeFeatureCache}. */
export interface DecodeFeatureCacheOptions {
  /** The file name, for messages. */
  file: string;
  /** The key the caller needs; a different key is an error. */
  expected?: FeatureKey;
  /** When given, the size the source file has now. */
  sourceBytes?: number | null;
}

/**
 * Parses and verifies a cache file's bytes; the arrays of the result are views of `bytes`.
 *
 * @param bytes The whole file.
 * @param options File name, expected key and current source size.
 * @throws {DataError} For a wrong magic or version, a short or long file, a checksum
 * mismatch, a malformed header, a different key or a changed source size.
 */
export function decodeFeatureCache(
  bytes: Uint8Array,
  { file, expected, sourceBytes }: DecodeFeatureCacheOptions,
): FeatureSet {
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  if (bytes.length < PREAMBLE + 4) throw corrupt(file, `it has only ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw corrupt(file, "it is not a camtl feature cache (wrong magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FEATURE_CACHE_VERSION) {
    throw corrupt(
      file,
      `it has format version ${version}, this code reads ${FEATURE_CACHE_VERSION}`,
    );
  }
  const h = view.getUint32(12, true);
  if (h % 4 !== 0 || PREAMBLE + h + 4 > bytes.length) {
    throw corrupt(file, `its header length ${h} does not fit in ${bytes.length} bytes`);
  }
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + h)));
  } catch {
    throw corrupt(file, "its header is not valid JSON");
  }
  if (
    typeof header !== "object" || header === null || typeof header.key !== "object" || !header.key
  ) {
    throw corrupt(file, "its header is not an object with a key");
  }
  const { count: n, tokens } = header;
  if (!Number.isInteger(n) || !Number.isInteger(tokens) || n < 0 || tokens < 0) {
    throw corrupt(file, "its header lacks example and token counts");
  }
  const sequences = n * (header.extras?.choices ?? 1);
  let extraBytes = 0;
  try {
    extraBytes = header.extras ? extrasByteLength(header.extras, n, tokens) : 0;
  } catch (err) {
    throw corrupt(file, `its header is malformed (${(err as Error).message})`);
  }
  const size = PREAMBLE + h + 4 * (sequences + 1) + 4 * tokens + align4(tokens) +
    (header.labels === "none" ? 0 : 4 * n) + extraBytes + 4;
  if (size !== bytes.length) {
    throw corrupt(file, `it has ${bytes.length} bytes, its header implies ${size} (truncated?)`);
  }
  const stored = view.getUint32(size - 4, true);
  if (crc32(bytes.subarray(0, size - 4)) !== stored) {
    throw corrupt(file, "its checksum does not match its contents");
  }
  if (expected && !sameKey(header.key, expected)) {
    throw corrupt(
      file,
      `it holds ${JSON.stringify(header.key)}, but ${JSON.stringify(expected)} was asked for`,
    );
  }
  if (sourceBytes != null && header.sourceBytes != null && sourceBytes !== header.sourceBytes) {
    throw corrupt(
      file,
      `it was built from a ${header.sourceBytes}-byte file, the source now has ${sourceBytes} bytes`,
    );
  }
  let at = bytes.byteOffset + PREAMBLE + h;
  const offsets = new Int32Array(bytes.buffer, at, sequences + 1);
  at += 4 * (sequences + 1);
  const inputIds = new Int32Array(bytes.buffer, at, tokens);
  at += 4 * tokens;
  const tokenTypeIds = new Uint8Array(bytes.buffer, at, tokens);
  at += align4(tokens);
  let labels: LabelArray | null = null;
  if (header.labels === "int32") labels = new Int32Array(bytes.buffer, at, n);
  else if (header.labels === "float32") labels = new Float32Array(bytes.buffer, at, n);
  if (labels) at += 4 * n;
  const extras = header.extras ? extrasViews(header.extras, bytes.buffer, at, { n, tokens }) : null;
  const bad = checkArrays(header, { offsets, tokenTypeIds, labels });
  if (bad) throw corrupt(file, bad);
  try {
    return new FeatureSet(header.key, {
      offsets,
      inputIds,
      tokenTypeIds,
      labels,
      skipped: header.skipped,
      padId: header.padId,
      extras,
      meta: header.meta ?? null,
    });
  } catch (err) {
    throw corrupt(file, (err as Error).message);
  }
}

/**
 * What is wrong with arrays that passed the checksum but not the layout's rules (a file written
 * by other code, or edited): examples of 0 to max_seq_length tokens, token types 0 or 1, class
 * labels in [0, num_labels) and finite scores. Null when they are fine.
 */
function checkArrays(
  header: CacheHeader,
  arrays: { offsets: Int32Array; tokenTypeIds: Uint8Array; labels: LabelArray | null },
): string | null {
  const { offsets, tokenTypeIds, labels } = arrays;
  const maxLength = header.key?.maxSeqLength;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    return `its key has max_seq_length ${maxLength}`;
  }
  if (!Number.isSafeInteger(header.padId) || header.padId < 0) {
    return `its pad id is ${header.padId}`;
  }
  for (let i = 0; i + 1 < offsets.length; i++) {
    const length = offsets[i + 1] - offsets[i];
    if (length < 0 || length > maxLength) {
      return `example ${i} has ${length} tokens, expected 0 to ${maxLength}`;
    }
  }
  const type = tokenTypeIds.findIndex((t) => t > 1);
  if (type >= 0) return `token ${type} has type ${tokenTypeIds[type]}, expected 0 or 1`;
  if (labels instanceof Float32Array) {
    const at = labels.findIndex((y) => !Number.isFinite(y));
    if (at >= 0) return `example ${at} has score ${labels[at]}`;
  } else if (labels) {
    let classes: number;
    try {
      classes = getTask(header.key.task).numLabels;
    } catch (e) {
      return (e as Error).message;
    }
    const at = labels.findIndex((y) => y < 0 || y >= classes);
    if (at >= 0) return `example ${at} has label ${labels[at]}, expected 0 to ${classes - 1}`;
  }
  return null;
}
