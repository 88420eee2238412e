/**
 * camtl: CA-MTL ("Conditionally Adaptive Multi-Task Learning", ICLR 2021) on WebGPU.
 *
 * One BERT encoder shared by many NLU tasks, adapted to each task by conditional attention,
 * alignment, layer norm and bottleneck adapters driven by a task embedding, trained with
 * MT-Uncertainty sampling. Hand-written WGSL kernels under a small autograd engine.
 *
 * @example Train CA-MTL-tiny on two GLUE tasks from a notebook
 * ```ts ignore
 * import { parseArgs, runTraining } from "jsr:@camtl/camtl";
 * const result = await runTraining(parseArgs([
 *   "--model_name_or_path", "CA-MTL-tiny", "--tokenizer_name", "bert-base-cased",
 *   "--data_dir", "glue", "--tasks", "rte", "mrpc", "--output_dir", "runs/x",
 *   "--do_train", "--do_eval", "--use_mt_uncertainty", "--max_steps", "100",
 * ]));
 * console.log(result.evalResults);
 * ```
 *
 * @module
 */

// GPU runtime and autograd
export * from "./lib/gpu/device.ts";
export * from "./lib/gpu/errors.ts";
export {
  byGrid,
  formatSummary,
  type KernelSummary,
  type KernelTiming,
  summarizeTimings,
} from "./lib/gpu/profiler.ts";
export { type DType, fromArray, readFloats, Tensor } from "./lib/autograd/tensor.ts";
export { backward, zeroGrad } from "./lib/autograd/backward.ts";
export { noGrad } from "./lib/autograd/grad_mode.ts";
export { isAutocast, withAutocast } from "./lib/autograd/autocast.ts";
export { beginScope, withScope } from "./lib/autograd/scope.ts";
export { defineOp, type OpContext } from "./lib/autograd/op.ts";

// Ops
export { add, mul, scale } from "./lib/ops/elementwise.ts";
export { matmul } from "./lib/ops/matmul.ts";
export { attendsInPlace, attentionContext, attentionScores } from "./lib/ops/attention.ts";
export { linear } from "./lib/ops/linear.ts";
export { castTensor } from "./lib/ops/cast.ts";
export { layerNorm } from "./lib/ops/layer_norm.ts";
export { softmax } from "./lib/ops/softmax.ts";
export { gelu } from "./lib/ops/gelu.ts";
export { tanh } from "./lib/ops/tanh.ts";
export { dropout } from "./lib/ops/dropout.ts";
export { embedding } from "./lib/ops/embedding.ts";
export { crossEntropy, normalizedEntropy } from "./lib/ops/cross_entropy.ts";
export { mseLoss } from "./lib/ops/mse.ts";
export { mean, sum } from "./lib/ops/reduce.ts";
export { film } from "./lib/ops/film.ts";
export { blockDiag } from "./lib/ops/block_diag.ts";
export { mergeHeads, splitHeads } from "./lib/ops/heads.ts";
export { concat, slice } from "./lib/ops/slice.ts";
export { gatherRows } from "./lib/ops/gather.ts";
export { reshape } from "./lib/ops/reshape.ts";
export { AdamW } from "./lib/optim/adamw.ts";
export { clipGradNorm } from "./lib/optim/clip.ts";
export {
  GradScaler,
  type GradScalerOptions,
  type GradScalerState,
  type UnscaleResult,
} from "./lib/optim/grad_scaler.ts";

// Models
export { Module, Parameter } from "./lib/nn/module.ts";
export { BertModel } from "./lib/nn/bert/model.ts";
export { type BertInputs, type HostBatch, uploadBatch } from "./lib/nn/bert/inputs.ts";
export * from "./lib/nn/ca_mtl/config.ts";
export { CaMtl, type CaMtlOutput, type TaskBatch } from "./lib/nn/ca_mtl/model.ts";
export { freezeEncoderLayers } from "./lib/nn/ca_mtl/freeze.ts";
export { loadCaMtl } from "./lib/nn/ca_mtl/pretrained.ts";
export { loadModelWeights, readModelWeights } from "./lib/nn/state_dict.ts";

// Checkpoints, tokenizer, data
export * from "./lib/io/host_tensor.ts";
export * from "./lib/io/errors.ts";
export * from "./lib/io/safetensors.ts";
export * from "./lib/io/checkpoint.ts";
export * from "./lib/io/config.ts";
export * from "./lib/io/hub.ts";
export { BertTokenizer } from "./lib/text/tokenizer.ts";
export * from "./lib/data/mod.ts";

// Training
export { LinearSchedule } from "./lib/train/schedule.ts";
export { Trainer, type TrainerOptions } from "./lib/train/trainer.ts";
export { parseArgs, type TrainArgs, usage, UsageError } from "./lib/train/args.ts";
export { mixedPrecision, type RunResult, runTraining } from "./lib/train/run.ts";
export { SummaryWriter, type SummaryWriterOptions } from "./lib/train/tensorboard.ts";
