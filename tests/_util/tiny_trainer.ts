/**
 * A small CA-MTL model, data and trainer options for training tests: two synthetic tasks
 * (mrpc, sts-b), H = 32, T = 12, eight MT-Uncertainty steps of batch 4.
 *
 * @module
 */

import { syntheticFeatures } from "./synthetic_features.ts";
import type { Gpu } from "../../lib/gpu/device.ts";
import { caMtlTinyBert } from "../../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../../lib/nn/ca_mtl/model.ts";
import type { TrainerOptions } from "../../lib/train/trainer.ts";

/** The two tasks, by task id. */
export const TINY_TASKS = [{ name: "mrpc", numLabels: 2 }, { name: "sts-b", numLabels: 1 }];

/** Train and dev feature sets of the two tasks. */
export function tinyData() {
  return {
    train: [syntheticFeatures("mrpc", 0, 40, 12), syntheticFeatures("sts-b", 1, 30, 12)],
    dev: [syntheticFeatures("mrpc", 0, 12, 12)],
  };
}

/** The model, seeded. */
export function tinyModel(gpu: Gpu): CaMtl {
  const bert = {
    ...caMtlTinyBert(2100),
    hiddenSize: 32,
    numAttentionHeads: 2,
    intermediateSize: 64,
  };
  return new CaMtl({ architecture: "CA-MTL-base", bert, tasks: TINY_TASKS, maxSeqLength: 16 }, {
    seed: 5,
  })
    .materialize(gpu, 5);
}

/** Trainer options for `outputDir`, with `over` applied. */
export function tinyOptions(outputDir: string, over: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    outputDir,
    perDeviceTrainBatchSize: 4,
    perDeviceEvalBatchSize: 8,
    learningRate: 1e-3,
    weightDecay: 0.01,
    adamEpsilon: 1e-8,
    maxGradNorm: 1,
    numTrainEpochs: 1,
    maxSteps: 8,
    warmupProportion: 0.25,
    gradientAccumulationSteps: 1,
    loggingSteps: 1,
    loggingFirstStep: false,
    saveSteps: 0,
    saveTotalLimit: null,
    evaluateDuringTraining: false,
    seed: 3,
    samplingMode: "mt-uncertainty",
    uniformMtSampling: false,
    percentOfMaxDataSize: 1,
    mtUncertaintyScore: "code",
    modelConfig: {},
    ...over,
  };
}
