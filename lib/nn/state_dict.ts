/**
 * Moving weights between a `Module` and a host state dict: load a checkpoint into a
 * materialized model by exact PyTorch keys, and read a model back for saving.
 *
 * @module
 */

import { writeTextAtomic } from "../io/atomic.ts";
import {
  loadStateDict,
  type MatchOptions,
  matchStateDict,
  saveSafetensors,
} from "../io/checkpoint.ts";
import { hostTensorFromFloat32, type StateDict, toFloat32 } from "../io/host_tensor.ts";
import { blameConfig } from "./matching_parts.ts";
import type { Module } from "./module.ts";

/** What a load did: keys loaded, model keys left at their initialisation, checkpoint keys unused. */
export interface LoadReport {
  /** Model keys that took a checkpoint tensor. */
  loaded: string[];
  /** Model keys the checkpoint lacked, left at their initialisation. */
  missing: string[];
  /** Checkpoint keys the model has no parameter for (e.g. a pre-training head). */
  unused: string[];
}

/**
 * Copies matching checkpoint tensors into `module`'s parameters (F16/BF16 are widened to f32),
 * matching the exact PyTorch keys of `namedParameters()`. The module must be materialized.
 *
 * @throws {CheckpointError} on missing keys that are not allowed, or mis-shaped keys.
 * @example Load a head saved separately, tolerating a prefix
 * ```ts ignore
 * const head = new Linear(768, 3).materialize(gpu);
 * const { stateDict } = await loadStateDict("runs/head");
 * const report = loadModelWeights(head, stateDict, { optionalPrefix: "classifier." });
 * console.log(report.loaded, report.unused);
 * ```
 */
export function loadModelWeights(
  module: Module,
  stateDict: StateDict,
  options: MatchOptions = {},
): LoadReport {
  const params = new Map(module.namedParameters());
  const expected = new Map([...params].map(([k, p]) => [k, p.shape] as const));
  const result = matchStateDict(expected, stateDict, options);
  for (const [key, tensor] of result.matched) params.get(key)!.value.write(toFloat32(tensor));
  return { loaded: [...result.matched.keys()], missing: result.missing, unused: result.unused };
}

/**
 * Reads every parameter back to the host as F32, under its checkpoint key.
 *
 * @example Save any module's weights as safetensors
 * ```ts ignore
 * await saveSafetensors("runs/head/model.safetensors", await readModelWeights(head));
 * ```
 */
export async function readModelWeights(module: Module): Promise<StateDict> {
  const out: StateDict = new Map();
  for (const [key, p] of module.namedParameters()) {
    out.set(key, hostTensorFromFloat32(p.shape, await p.value.readFloat()));
  }
  return out;
}

/**
 * Writes `module`'s weights as `model.safetensors` and `config` as `config.json` into `dir`
 * (created if needed), each through a temporary file and a rename.
 */
export async function saveModelFolder(
  dir: string,
  module: Module,
  config: Record<string, unknown>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await saveSafetensors(`${dir}/model.safetensors`, await readModelWeights(module));
  await writeTextAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
}

/**
 * Loads the weights file of a model folder into `model` (materialized). On failure the model is
 * freed, so a refused checkpoint leaks no GPU memory; with `configFile`, mis-shaped keys are
 * reported as a disagreement between the weights and that `config.json`.
 *
 * @throws {CheckpointError} on an unreadable file, missing keys that are not allowed, or
 *   mis-shaped keys
 */
export async function loadFolderWeights(
  model: Module,
  folder: string,
  options: Omit<MatchOptions, "file">,
  configFile?: string,
): Promise<LoadReport> {
  try {
    const { stateDict, file } = await loadStateDict(folder);
    return loadModelWeights(model, stateDict, { ...options, file });
  } catch (e) {
    model.dispose();
    throw configFile ? blameConfig(e, configFile) : e;
  }
}
