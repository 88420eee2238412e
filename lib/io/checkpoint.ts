/**
 * Load a model folder's weights into a {@linkcode StateDict}, save one as safetensors, and
 * match a loaded state dict against the keys and shapes a model declares.
 *
 * @module
 */

import { CheckpointError, type ShapeMismatch } from "./errors.ts";
import type { HostTensor, StateDict } from "./host_tensor.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";
import { looksLikeTorchLegacy, readTorchLegacy } from "./torch_legacy.ts";
import { readTorchZip } from "./torch_zip.ts";

/** Weight files a model folder may hold, in order of preference. */
export const WEIGHT_FILES: readonly string[] = Object.freeze([
  "model.safetensors",
  "pytorch_model.bin",
]);

/** Loaded keys ignored silently unless the model asks for them: buffers, not weights. */
export const DEFAULT_IGNORE: readonly RegExp[] = Object.freeze([/(^|\.)position_ids$/]);

/**
 * Read a `torch.save` file (`pytorch_model.bin`) in either the zip format (PyTorch ≥ 1.6) or
 * the legacy format, chosen from the file's first bytes.
 *
 * @param path The checkpoint file.
 * @returns The state dict in file order.
 * @throws {CheckpointError} When the file is neither format, or is damaged or unsafe.
 */
export async function readTorchBin(path: string): Promise<StateDict> {
  const head = new Uint8Array(4);
  const file = await Deno.open(path, { read: true });
  let n: number | null;
  try {
    n = await file.read(head);
  } finally {
    file.close();
  }
  if (n === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4) {
    return await readTorchZip(path);
  }
  if (n === 4 && looksLikeTorchLegacy(head)) return await readTorchLegacy(path);
  throw new CheckpointError(
    `Cannot read "${path}" as a torch checkpoint: it is neither a zip archive nor a ` +
      `legacy torch file (re-save it with torch.save, or convert it to safetensors)`,
    { file: path },
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Load the weights of a Hugging Face model folder, preferring `model.safetensors` over
 * `pytorch_model.bin`.
 *
 * @param folder A folder holding one of {@linkcode WEIGHT_FILES}.
 * @returns The state dict and the path of the file it came from.
 * @throws {CheckpointError} When no weight file exists, or the file cannot be read.
 *
 * @example Load a model folder (needs files)
 * ```ts ignore
 * import { loadStateDict } from "./checkpoint.ts";
 * const { stateDict, file } = await loadStateDict("models/bert-base-uncased");
 * ```
 */
export async function loadStateDict(
  folder: string,
): Promise<{ stateDict: StateDict; file: string }> {
  for (const name of WEIGHT_FILES) {
    const file = `${folder}/${name}`;
    if (!(await isFile(file))) continue;
    const stateDict = name.endsWith(".safetensors")
      ? (await readSafetensors(file)).stateDict
      : await readTorchBin(file);
    return { stateDict, file };
  }
  throw new CheckpointError(
    `Cannot load weights from "${folder}": it has neither ${WEIGHT_FILES.join(" nor ")} ` +
      `(pass a model folder, or resolve a hub name with resolveModel first)`,
    { file: folder },
  );
}

/**
 * Save a state dict as safetensors with `{"format": "pt"}` metadata, atomically.
 *
 * @param path Destination, usually `<folder>/model.safetensors`.
 * @param stateDict Tensors to save.
 * @throws {TypeError} When a tensor's bytes do not match its dtype and shape.
 * @example Save a state dict and read it back
 * ```ts
 * import assert from "node:assert/strict";
 * import { saveSafetensors } from "./checkpoint.ts";
 * import { hostTensorFromFloat32, toFloat32 } from "./host_tensor.ts";
 * import { readSafetensors } from "./safetensors.ts";
 * const dir = await Deno.makeTempDir();
 * const weight = hostTensorFromFloat32([2, 2], Float32Array.of(1, 2, 3, 4));
 * await saveSafetensors(`${dir}/model.safetensors`, new Map([["classifier.weight", weight]]));
 * const { stateDict, metadata } = await readSafetensors(`${dir}/model.safetensors`);
 * assert.deepEqual(toFloat32(stateDict.get("classifier.weight")!), Float32Array.of(1, 2, 3, 4));
 * assert.equal(metadata.format, "pt");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveSafetensors(path: string, stateDict: StateDict): Promise<void> {
  await writeSafetensors(path, stateDict, { metadata: { format: "pt" } });
}

/** How {@linkcode matchStateDict} pairs names. */
export interface MatchOptions {
  /** Unmatched loaded keys to drop silently, on top of {@linkcode DEFAULT_IGNORE}. */
  ignore?: RegExp[];
  /** Expected keys that may be absent (freshly initialised modules); listed in `missing`. */
  allowMissing?: RegExp[];
  /** A prefix that may be present on either side (`"bert."`): `bert.x` matches `x`. */
  optionalPrefix?: string;
  /** Throw on fatal missing or mis-shaped keys (default true). */
  strict?: boolean;
  /** Checkpoint file, named in the error. */
  file?: string;
}

/** Result of {@linkcode matchStateDict}. */
export interface MatchResult {
  /** Model key → checkpoint tensor, in the model's key order. */
  matched: Map<string, HostTensor>;
  /** Checkpoint keys nothing used (task heads, renamed layers), not ignored. */
  unused: string[];
  /** Model keys the checkpoint lacks (only `allowMissing` ones unless `strict` is false). */
  missing: string[];
  /** Keys found with another shape (empty unless `strict` is false). */
  mismatched: ShapeMismatch[];
}

/** Old BERT checkpoints (TF conversions) name LayerNorm parameters gamma/beta. */
function renameLegacy(key: string): string {
  return key.replace(/LayerNorm\.gamma$/, "LayerNorm.weight").replace(
    /LayerNorm\.beta$/,
    "LayerNorm.bias",
  );
}

/**
 * Pair the keys a model declares with a loaded state dict. Exact names win; otherwise a name
 * matches with or without `optionalPrefix`, and legacy `LayerNorm.gamma/beta` match
 * `LayerNorm.weight/bias`.
 *
 * @param expected Model key → shape, in the model's order.
 * @param loaded The checkpoint's state dict.
 * @param options Ignore lists, optional prefix, strictness.
 * @returns Matched tensors plus unused, missing and mis-shaped keys.
 * @throws {CheckpointError} When `strict` (default) and a key is missing (not allowed) or
 * mis-shaped; the error lists those and the unused keys.
 *
 * @example Map a prefix-less checkpoint onto `bert.` keys
 * ```ts
 * import { matchStateDict } from "./checkpoint.ts";
 * import { hostTensorFromFloat32 } from "./host_tensor.ts";
 * import { deepEqual } from "node:assert/strict";
 * const loaded = new Map([
 *   ["embeddings.LayerNorm.weight", hostTensorFromFloat32([2], new Float32Array(2))],
 *   ["classifier.bias", hostTensorFromFloat32([3], new Float32Array(3))],
 * ]);
 * const r = matchStateDict(new Map([["bert.embeddings.LayerNorm.weight", [2]]]), loaded, {
 *   optionalPrefix: "bert.",
 * });
 * deepEqual([...r.matched.keys()], ["bert.embeddings.LayerNorm.weight"]);
 * deepEqual(r.unused, ["classifier.bias"]);
 * ```
 */
export function matchStateDict(
  expected: Map<string, readonly number[]>,
  loaded: StateDict,
  options: MatchOptions = {},
): MatchResult {
  const prefix = options.optionalPrefix ?? "";
  const normalize = (k: string) =>
    renameLegacy(prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k);
  const byNormal = new Map<string, string[]>();
  for (const key of loaded.keys()) {
    const n = normalize(key);
    byNormal.set(n, [...(byNormal.get(n) ?? []), key]);
  }
  const used = new Set<string>();
  const matched = new Map<string, HostTensor>();
  const missing: string[] = [];
  const mismatched: ShapeMismatch[] = [];
  for (const [name, shape] of expected) {
    const key = loaded.has(name) && !used.has(name)
      ? name
      : byNormal.get(normalize(name))?.find((k) => !used.has(k) && !expected.has(k));
    if (key === undefined) {
      missing.push(name);
      continue;
    }
    used.add(key);
    const t = loaded.get(key)!;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      mismatched.push({ key: name, expected: [...shape], found: [...t.shape] });
      continue;
    }
    matched.set(name, t);
  }
  const ignore = [...DEFAULT_IGNORE, ...(options.ignore ?? [])];
  const unused = [...loaded.keys()].filter((k) => !used.has(k) && !ignore.some((r) => r.test(k)));
  const allowed = options.allowMissing ?? [];
  const fatal = missing.filter((k) => !allowed.some((r) => r.test(k)));
  if ((options.strict ?? true) && (fatal.length || mismatched.length)) {
    const file = options.file;
    throw new CheckpointError(
      `Cannot load ${file ? `"${file}"` : "the checkpoint"} into the model` +
        (prefix ? ` (keys tried with and without "${prefix}")` : ""),
      { file, missing: fatal, mismatched, unexpected: unused },
    );
  }
  return { matched, unused, missing, mismatched };
}
