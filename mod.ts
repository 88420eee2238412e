/**
 * camtl: CA-MTL ("Conditionally Adaptive Multi-Task Learning", ICLR 2021) on WebGPU.
 *
 * One BERT encoder shared by many NLU tasks, adapted to each task by conditional attention,
 * alignment, layer norm and bottleneck adapters driven by a task embedding, trained with
 * MT-Uncertainty sampling. Hand-written WGSL kernels under a small autograd engine.
 *
 * The exports are grouped by layer: the GPU runtime; tensors and autograd; ops; modules and
 * models; optimization; checkpoints; text; data; training.
 *
 * @example Train CA-MTL-tiny on the embedded demo tasks, from a script or a notebook
 * ```ts ignore
 * import { runTraining } from "jsr:@camtl/camtl";
 * const result = await runTraining({ demo: true, maxSteps: 100, outputDir: "runs/nb", progress: true });
 * console.log(result.evalResults);
 * ```
 *
 * @example Fine-tune a BERT checkpoint with a classification head, step by step
 * ```ts ignore
 * import {
 *   AdamW, backward, BertForSequenceClassification, clipGradNorm, groupParameters,
 *   LinearSchedule, requestGpu, zeroGrad,
 * } from "jsr:@camtl/camtl";
 * const gpu = await requestGpu();
 * const { model } = await BertForSequenceClassification.fromPretrained(gpu, "path/to/bert", {
 *   numLabels: 2,
 * });
 * model.train();
 * const optimizer = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr: 5e-5 });
 * const schedule = new LinearSchedule(5e-5, 1000, 0.1);
 * for (const [step, batch] of batches.entries()) {
 *   const { loss } = model.forward(batch);
 *   backward(loss!);
 *   clipGradNorm(model, 1.0);
 *   optimizer.step(schedule.lr(step));
 *   zeroGrad(model);
 * }
 * ```
 *
 * @module
 */

// The GPU runtime
export { type AdapterReport, Gpu, type GpuOptions, requestGpu } from "./lib/gpu/device.ts";
export type { RowKernels } from "./lib/gpu/kernel_choice.ts";
export type { BufferPool, PoolStats } from "./lib/gpu/buffer_pool.ts";
export type { Recorder, RecorderStats } from "./lib/gpu/recorder.ts";
export {
  GpuDeviceError,
  GpuDeviceLostError,
  GpuMemoryError,
  GpuUnavailableError,
  KernelCompileError,
} from "./lib/gpu/errors.ts";
export {
  formatSummary,
  type KernelSummary,
  type KernelTiming,
  summarizeTimings,
} from "./lib/gpu/profiler.ts";

// Tensors and autograd
export { type DType, fromArray, readFloats, Tensor } from "./lib/autograd/tensor.ts";
export type { FormatOptions } from "./lib/autograd/format.ts";
export { backward } from "./lib/autograd/backward.ts";
export { noGrad } from "./lib/autograd/grad_mode.ts";
export { releaseTemporaries, withScope } from "./lib/autograd/scope.ts";
export { withAutocast } from "./lib/autograd/autocast.ts";
export { defineOp, type Op, OpContext, type OpSpec } from "./lib/autograd/op.ts";

// Ops
export { add, mul, scale } from "./lib/ops/elementwise.ts";
export { matmul, type MatmulOptions } from "./lib/ops/matmul.ts";
export { linear, type LinearInputs } from "./lib/ops/linear.ts";
export { layerNorm, type LayerNormInputs, type LayerNormOptions } from "./lib/ops/layer_norm.ts";
export { softmax, type SoftmaxInputs, type SoftmaxOptions } from "./lib/ops/softmax.ts";
export { gelu } from "./lib/ops/gelu.ts";
export { tanh } from "./lib/ops/tanh.ts";
export { dropout } from "./lib/ops/dropout.ts";
export type { DropoutParams } from "./kernels/dropout.ts";
export { embedding } from "./lib/ops/embedding.ts";
export { crossEntropy, normalizedEntropy } from "./lib/ops/cross_entropy.ts";
export { mseLoss } from "./lib/ops/mse.ts";
export { type AxisOptions, mean, sum } from "./lib/ops/reduce.ts";
export { film } from "./lib/ops/film.ts";
export { concat, slice, type SliceOptions } from "./lib/ops/slice.ts";
export { gatherRows } from "./lib/ops/gather.ts";
export { reshape } from "./lib/ops/reshape.ts";
export { castTensor } from "./lib/ops/cast.ts";
export { type MatmulDims, matmulRef } from "./kernels/matmul_ref.ts";
export { layerNormForwardRef, type LayerNormRefInputs } from "./kernels/layer_norm.ts";

// Modules and models
export { type Init, Module, Parameter } from "./lib/nn/module.ts";
export { Dropout, Embedding, LayerNorm, Linear, ModuleList } from "./lib/nn/layers.ts";
export { Generator } from "./lib/nn/random.ts";
export { SeedStream } from "./lib/nn/seeds.ts";
export { type BertBatch, BertModel, type BertOutput } from "./lib/nn/bert/model.ts";
export { type BertInputs, type HostBatch, uploadBatch } from "./lib/nn/bert/inputs.ts";
export {
  BertForSequenceClassification,
  type Labels,
  type SequenceClassificationOptions,
  type SequenceClassifierOutput,
} from "./lib/nn/bert/sequence_classification.ts";
export {
  BertForTokenClassification,
  type TokenClassifierOutput,
} from "./lib/nn/bert/token_classification.ts";
export {
  type Architecture,
  BERT_BASE_CASED,
  BERT_LARGE_CASED,
  type CaMtlConfig,
  caMtlTinyBert,
  type TaskSpec,
} from "./lib/nn/ca_mtl/config.ts";
export {
  CaMtl,
  type CaMtlEncoderModel,
  type CaMtlOutput,
  type TaskBatch,
  type TaskRows,
} from "./lib/nn/ca_mtl/model.ts";
export { freezeEncoderLayers } from "./lib/nn/ca_mtl/freeze.ts";
export { loadCaMtl, type LoadCaMtlOptions, type LoadedCaMtl } from "./lib/nn/ca_mtl/pretrained.ts";
export type { LoadReport } from "./lib/nn/state_dict.ts";

// Optimization
export {
  AdamW,
  type AdamWOptions,
  type AdamWParamState,
  type AdamWState,
} from "./lib/optim/adamw.ts";
export { clipGradNorm } from "./lib/optim/clip.ts";
export { zeroGrad } from "./lib/optim/zero_grad.ts";
export { groupParameters, type Parameters, type ParamGroup } from "./lib/optim/params.ts";
export { LinearSchedule } from "./lib/train/schedule.ts";

// Checkpoints
export { type BertConfig, readBertConfig } from "./lib/io/config.ts";
export {
  type HubEnvName,
  HubError,
  type LocateOptions,
  type ResolvedModel,
  resolveModel,
  type ResolveOptions,
} from "./lib/io/hub.ts";
export { CheckpointError, type ShapeMismatch } from "./lib/io/errors.ts";

// Text
export {
  BertTokenizer,
  type BertTokenizerOptions,
  type DecodeOptions,
  type FromFolderOptions,
  type SpecialTokens,
  type TextInput,
} from "./lib/text/tokenizer.ts";
export type { BasicTokenizerOptions } from "./lib/text/basic_tokenizer.ts";
export type { TokenOffsets } from "./lib/text/offsets.ts";
export type { EncodeOptions, Encoding } from "./lib/text/encoding.ts";

// Data
export { DataError } from "./lib/data/data_error.ts";
export {
  type AnswerMetrics,
  type HeadKind,
  registerTask,
  type TaskDefinition,
} from "./lib/data/tasks.ts";
export type { ExampleMeta, FeatureExtras } from "./lib/data/feature_extras.ts";
export { GLUE_TASKS, type GlueSplit, type GlueTaskName } from "./lib/data/glue_tasks.ts";
export type { GlueExample } from "./lib/data/glue.ts";
export {
  type LoadedFeatures,
  loadGlueFeatures,
  type LoadGlueFeaturesOptions,
} from "./lib/data/cache.ts";
export {
  buildFeatures,
  type BuildFeaturesOptions,
  type Feature,
  type FeatureArrays,
  type FeatureKey,
  FeatureSet,
  type FeatureTokenizer,
  type LabelArray,
} from "./lib/data/features.ts";
export {
  type Batch,
  collateIndices,
  type CollateOptions,
  evalBatches,
  type TaskSlice,
  trainBatches,
} from "./lib/data/loader.ts";
export type {
  MultiTaskSampler,
  SamplerOptions,
  SamplerStats,
  SamplingMode,
  TaskSamplerStats,
} from "./lib/data/sampler.ts";
export { createSampler, type CreateSamplerOptions } from "./lib/data/samplers.ts";
export type {
  CandidateScorer,
  MtUncertaintySamplerOptions,
  MtUncertaintyScoreMode,
  MtUncertaintyScoreOptions,
} from "./lib/data/mt_uncertainty.ts";
export { glueComputeMetrics, type GlueMetrics } from "./lib/data/metrics.ts";
export {
  downloadGlue,
  type GlueDownloadOptions,
  type GlueDownloadResult,
  type GlueDownloadTask,
} from "./lib/data/download_glue.ts";
export {
  type DemoSuite,
  type DemoSuiteOptions,
  type DemoTask,
  type DemoTaskData,
  type DemoTaskName,
  generateDemoSuite,
} from "./lib/data/demo_suite.ts";

// Training
export { type RunResult, runTraining } from "./lib/train/run.ts";
export { ConfigError, type RunHooks, type TrainingConfig } from "./lib/train/config.ts";
export type { LogRecord } from "./lib/train/log.ts";
export { NonFiniteError } from "./lib/train/finite_guard.ts";
export { type LockHolder, OutputLockedError } from "./lib/train/output_lock.ts";
export { SummaryWriter, type SummaryWriterOptions } from "./lib/train/tensorboard.ts";
