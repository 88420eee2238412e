/**
 * Training checkpoints, HF-style: `<output_dir>/checkpoint-<step>/` holding the model
 * (`model.safetensors`, `config.json`), the optimizer moments (`optimizer.safetensors`), and
 * `trainer_state.json` (step, epoch, schedule, RNG and sampler state, log history).
 *
 * A checkpoint is written into a hidden `.checkpoint-<step>.partial` folder and renamed into
 * place only when complete, so a process killed mid-save never leaves a folder that looks like a
 * good checkpoint; `trainer_state.json` is written last and is required when loading. A save
 * that fails (a full disk) removes its partial folder, leaves the earlier checkpoints as they
 * were, and says which one to resume from.
 *
 * @module
 */

import { saveSafetensors } from "../io/checkpoint.ts";
import { CheckpointError } from "../io/errors.ts";
import { hostTensorFromFloat32, type StateDict, toFloat32 } from "../io/host_tensor.ts";
import { readSafetensors } from "../io/safetensors.ts";
import type { AdamW, AdamWState } from "../optim/adamw.ts";
import { saveModelFolder } from "../nn/state_dict.ts";
import type { Module } from "../nn/module.ts";
import { writeTextAtomic } from "./log.ts";
import { parseTrainerState, TRAINER_STATE } from "./trainer_state.ts";

/** The file that marks a checkpoint as complete. */
export { TRAINER_STATE };
const CHECKPOINT_RE = /^checkpoint-(\d+)$/;

/** Saves `module`'s weights and `config` (as `config.json`) into `dir`, atomically per file. */
export async function saveModel(
  dir: string,
  module: Module,
  config: Record<string, unknown>,
): Promise<void> {
  await saveModelFolder(dir, module, config);
}

function optimizerStateDict(state: AdamWState, names: string[]): StateDict {
  const out: StateDict = new Map();
  state.params.forEach((s, i) => {
    if (!s) return;
    out.set(`${names[i]}.exp_avg`, hostTensorFromFloat32([s.m.length], s.m));
    out.set(`${names[i]}.exp_avg_sq`, hostTensorFromFloat32([s.v.length], s.v));
  });
  return out;
}

/** The trainer's own part of `trainer_state.json`. */
export interface CheckpointState {
  global_step: number;
  epoch: number;
  [key: string]: unknown;
}

/** Everything a checkpoint holds besides tensors. */
export interface TrainerStateJson extends CheckpointState {
  /** Per-parameter AdamW step counts (null = never updated), in optimizer order. */
  optimizer_steps: (number | null)[];
  optimizer_step: number;
}

/** What `saveCheckpoint` needs. */
export interface CheckpointContent {
  model: Module;
  modelConfig: Record<string, unknown>;
  optimizer: AdamW;
  /** Names of the optimizer's parameters, in its order. */
  paramNames: string[];
  state: CheckpointState;
  /** Extra text files to write beside the model (tokenizer files). */
  files?: Record<string, string>;
}

/**
 * Writes `checkpoint-<step>` under `outputDir` and prunes older ones beyond `totalLimit`.
 *
 * @returns the checkpoint folder
 */
export async function saveCheckpoint(
  outputDir: string,
  content: CheckpointContent,
  totalLimit: number | null,
): Promise<string> {
  const step = content.state.global_step;
  const final = `${outputDir}/checkpoint-${step}`;
  const partial = `${outputDir}/.checkpoint-${step}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  try {
    await writeCheckpointFiles(partial, content);
  } catch (e) {
    // A full disk (or any failed write) leaves the older checkpoints as they were; the partial
    // folder goes, so that its bytes are free again.
    await Deno.remove(partial, { recursive: true }).catch(() => {});
    throw await saveFailed(e, final, outputDir);
  }
  // Swap, never delete first: an existing checkpoint of this step stays until the new one is in.
  const old = `${outputDir}/.checkpoint-${step}.old`;
  await Deno.remove(old, { recursive: true }).catch(() => {});
  const replacing = await exists(final);
  if (replacing) await Deno.rename(final, old);
  await Deno.rename(partial, final);
  if (replacing) await Deno.remove(old, { recursive: true });
  if (totalLimit !== null && totalLimit > 0) await pruneCheckpoints(outputDir, totalLimit);
  return final;
}

async function writeCheckpointFiles(dir: string, content: CheckpointContent): Promise<void> {
  await saveModel(dir, content.model, content.modelConfig);
  for (const [name, text] of Object.entries(content.files ?? {})) {
    await writeTextAtomic(`${dir}/${name}`, text);
  }
  const opt = await content.optimizer.state();
  await saveSafetensors(
    `${dir}/optimizer.safetensors`,
    optimizerStateDict(opt, content.paramNames),
  );
  const state: TrainerStateJson = {
    ...content.state,
    optimizer_step: opt.step,
    optimizer_steps: opt.params.map((p) => p?.step ?? null),
  };
  await writeTextAtomic(`${dir}/${TRAINER_STATE}`, JSON.stringify(state, null, 1) + "\n");
}

/** The error of a failed save: the cause, and which checkpoint the run can resume from. */
async function saveFailed(cause: unknown, target: string, outputDir: string): Promise<Error> {
  const message = (cause as Error)?.message ?? String(cause);
  const previous = (await listCheckpoints(outputDir)).at(-1)?.dir;
  const full = (cause as { code?: string })?.code === "ENOSPC";
  return new CheckpointError(
    `Cannot save "${target}": ${message}; ` +
      (previous
        ? `the previous checkpoint "${previous}" is intact`
        : "no earlier checkpoint exists, nothing was lost") +
      (full ? "; free disk space" : "") +
      (previous ? `, then resume from it (--model_name_or_path ${previous})` : ""),
    { file: target, cause },
  );
}

/** Complete checkpoints under `outputDir`, oldest first. */
export async function listCheckpoints(outputDir: string): Promise<{ step: number; dir: string }[]> {
  const out: { step: number; dir: string }[] = [];
  try {
    for await (const e of Deno.readDir(outputDir)) {
      const m = CHECKPOINT_RE.exec(e.name);
      if (!e.isDirectory || !m) continue;
      const dir = `${outputDir}/${e.name}`;
      if (await exists(`${dir}/${TRAINER_STATE}`)) out.push({ step: Number(m[1]), dir });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Deletes the oldest checkpoints so that at most `limit` remain. */
export async function pruneCheckpoints(outputDir: string, limit: number): Promise<void> {
  const all = await listCheckpoints(outputDir);
  for (const { dir } of all.slice(0, Math.max(0, all.length - limit))) {
    await Deno.remove(dir, { recursive: true });
  }
}

/** True when `dir` is a complete training checkpoint. */
export function isCheckpoint(dir: string): Promise<boolean> {
  return exists(`${dir}/${TRAINER_STATE}`);
}

/**
 * Reads a checkpoint's trainer state and optimizer moments.
 *
 * @throws {CheckpointError} when the folder is not a complete checkpoint, or its trainer state
 *   or optimizer moments are damaged (`trainer_state.ts`)
 */
export async function readCheckpoint(
  dir: string,
  paramNames: string[],
): Promise<{ state: TrainerStateJson; optimizer: AdamWState }> {
  if (!(await isCheckpoint(dir))) {
    throw new CheckpointError(
      `Cannot resume from "${dir}": it has no ${TRAINER_STATE} (an incomplete or foreign checkpoint)`,
      { file: dir },
    );
  }
  const state = parseTrainerState(await Deno.readTextFile(`${dir}/${TRAINER_STATE}`), {
    file: `${dir}/${TRAINER_STATE}`,
    paramCount: paramNames.length,
  });
  const { stateDict } = await readSafetensors(`${dir}/optimizer.safetensors`);
  const params = paramNames.map((name, i) => {
    const m = stateDict.get(`${name}.exp_avg`), v = stateDict.get(`${name}.exp_avg_sq`);
    const step = state.optimizer_steps[i];
    return m && v && step !== null ? { step, m: toFloat32(m), v: toFloat32(v) } : null;
  });
  return { state, optimizer: { step: state.optimizer_step, params } };
}
