/**
 * The embedded demo's training step on camtl, for `bench:torch`: CA-MTL-tiny (hidden 128, 4
 * layers: 2 plain, 1 with conditional layer norm, the adapter layer; 4 heads, FFN 256, L = 64)
 * on the demo's three generated tasks, trained with MT-Uncertainty sampling at b = 32 as
 * `deno task train` with no arguments trains it: each step takes the next 32 examples of every
 * task (96 candidates), runs the model on them without gradients in training mode (dropout
 * 0.1 on) and reads their logits back, keeps the 32 most uncertain (the released code's score),
 * then trains on them: forward with the mean of the per-task losses, backward, clip to norm 1,
 * AdamW (lr 1e-3, the demo's peak rate, held constant; decay 0.01 except biases and LayerNorm
 * gains), zero grad. The step ends when the device has finished.
 *
 * The candidate pools depend only on the sampler's seed, so {@linkcode candidatePools} gives
 * PyTorch (`torch_ca_mtl.py`) the very pools this side draws, in the same order.
 *
 * @module
 */

import { noGrad } from "../../lib/autograd/grad_mode.ts";
import { withScope } from "../../lib/autograd/scope.ts";
import { readFloats } from "../../lib/autograd/tensor.ts";
import type { FeatureSet } from "../../lib/data/features.ts";
import type { Batch } from "../../lib/data/loader.ts";
import { type CandidateScorer, MtUncertaintySampler } from "../../lib/data/mt_uncertainty.ts";
import { getTask, glueTwinOf } from "../../lib/data/tasks.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import { caMtlTinyBert, type TaskSpec } from "../../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../../lib/nn/ca_mtl/model.ts";
import { demoData } from "../../lib/train/run_data.ts";
import { userStepCase } from "./camtl.ts";
import type { Case } from "./timing.ts";

/** The demo's settings that the step depends on (lib/cli/flags.ts's `DEMO_SETTINGS`). */
export const DEMO_STEP = { batchSize: 32, maxSeqLength: 64, seed: 42, lr: 1e-3 };

/** The benchmark's name, as both sides print it. */
export const CA_MTL_BENCH = "ca_mtl_tiny_mtu_step[L=4,b=32 of 3x32,T<=64,H=128,demo]";

/** The demo's training sets, their heads and its vocabulary size. */
export interface DemoTrainData {
  sets: FeatureSet[];
  tasks: TaskSpec[];
  vocabSize: number;
}

/** The embedded demo's training sets, generated as the demo generates them. */
export async function demoTrainData(): Promise<DemoTrainData> {
  const data = await demoData({
    seed: DEMO_STEP.seed,
    maxSeqLength: DEMO_STEP.maxSeqLength,
    splits: { train: true, dev: false, test: false },
  });
  return {
    sets: data.train,
    tasks: data.tasks.map((name) => ({ name, numLabels: getTask(name).numLabels })),
    vocabSize: data.tokenizer.vocabSize,
  };
}

/** The demo's MT-Uncertainty sampler over `d` (`--seed 42`, b = 32). */
export function demoSampler(d: DemoTrainData, scorer: CandidateScorer): MtUncertaintySampler {
  return new MtUncertaintySampler(d.sets, {
    batchSize: DEMO_STEP.batchSize,
    seed: DEMO_STEP.seed,
    scorer,
  });
}

/** The next selected batch, starting a new epoch when one ends (as the Trainer does). */
async function nextBatch(sampler: MtUncertaintySampler): Promise<Batch> {
  return await sampler.nextBatch() ?? (await sampler.nextBatch())!;
}

/** The first `count` candidate pools the demo's sampler draws (a scorer that sees no model). */
export async function candidatePools(d: DemoTrainData, count: number): Promise<Batch[]> {
  const pools: Batch[] = [];
  const sampler = demoSampler(d, (pool) => {
    pools.push(pool);
    return pool.tasks.map((t) => new Float32Array(t.rows.length * d.tasks[t.taskId].numLabels));
  });
  while (pools.length < count) await nextBatch(sampler);
  return pools;
}

/** CA-MTL-tiny for the demo's tasks, initialised as `loadCaMtl("CA-MTL-tiny")` does. */
export function demoModel(gpu: Gpu, d: DemoTrainData): CaMtl {
  return new CaMtl({
    architecture: "CA-MTL-base",
    bert: caMtlTinyBert(d.vocabSize),
    tasks: d.tasks,
    maxSeqLength: DEMO_STEP.maxSeqLength,
  }, { seed: DEMO_STEP.seed }).materialize(gpu, DEMO_STEP.seed);
}

/** The Trainer's scorer: a no-grad forward of the pool, every task's logits read with one wait. */
export function demoScorer(gpu: Gpu, model: CaMtl): CandidateScorer {
  return (pool) =>
    noGrad(() =>
      withScope(gpu, async () => {
        const out = model.forward({
          ...pool,
          tasks: pool.tasks.map((t) => ({ ...t, labels: null })),
        });
        return await readFloats(pool.tasks.map((t) => out.logits.get(t.taskId)!));
      })
    );
}

/** One MT-Uncertainty training step per `run()`, on the demo's model and data. */
export function caMtlTinyCase(gpu: Gpu, d: DemoTrainData): Case {
  const model = demoModel(gpu, d);
  const sampler = demoSampler(d, demoScorer(gpu, model));
  return userStepCase(gpu, model, () => nextBatch(sampler), { lr: DEMO_STEP.lr });
}

/** Each row's label as a number (class index or score), in row order. */
function rowLabels(b: Batch): number[] {
  const out = new Array<number>(b.size).fill(0);
  for (const t of b.tasks) t.rows.forEach((r, j) => out[r] = Number(t.labels![j]));
  return out;
}

/** The model's sizes, the tasks and the pools, as `torch_ca_mtl.py` reads them. */
export function poolsJson(d: DemoTrainData, pools: readonly Batch[]): string {
  const bert = caMtlTinyBert(d.vocabSize);
  return JSON.stringify({
    config: {
      vocab: bert.vocabSize,
      hidden: bert.hiddenSize,
      layers: bert.numHiddenLayers,
      heads: bert.numAttentionHeads,
      inter: bert.intermediateSize,
      positions: bert.maxPositionEmbeddings,
      L: DEMO_STEP.maxSeqLength,
      eps: bert.layerNormEps,
      dropout: bert.hiddenDropoutProb,
    },
    step: DEMO_STEP,
    tasks: d.tasks.map((t) => ({
      name: t.name,
      num_labels: t.numLabels,
      twin: glueTwinOf(t.name),
    })),
    pools: pools.map((p) => ({
      B: p.size,
      T: p.seqLen,
      ids: [...p.inputIds],
      types: [...p.tokenTypeIds],
      mask: [...p.attentionMask],
      task_ids: [...p.taskIds],
      labels: rowLabels(p),
    })),
  });
}
