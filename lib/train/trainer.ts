/**
 * `Trainer`: multi-task training of a `CaMtl` model as the released trainer runs it (docs/model.md
 * §13): a sampler picks each batch (sequential, uniform, proportional or MT-Uncertainty), AdamW
 * with the no-decay groups, linear warm-up then decay, global-norm clipping, gradient accumulation,
 * logging, evaluation, checkpoints every `saveSteps` and exact resumption. With `fp16`, forward
 * passes run under autocast (f16 matmul operands, f32 accumulation; `lib/autograd/autocast.ts`) and
 * a dynamic loss scaler guards the gradients (`lib/optim/grad_scaler.ts`), as apex AMP O1 does for
 * transformers 2.11's `--fp16`.
 *
 * The library never prints: progress, logs and evaluations reach the caller through events.
 *
 * @module
 */

import { backward } from "../autograd/backward.ts";
import type { TrainArgs } from "../cli/train_args.ts";
import { zeroGrad } from "../optim/zero_grad.ts";
import { noGrad } from "../autograd/grad_mode.ts";
import { assertF16, withAutocast } from "../autograd/autocast.ts";
import { withScope } from "../autograd/scope.ts";
import { readFloats, type Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import type { FeatureSet } from "../data/features.ts";
import type { Batch } from "../data/loader.ts";
import type { TaskPredictions } from "../data/task_outputs.ts";
import type { MultiTaskSampler } from "../data/sampler.ts";
import { createSampler } from "../data/samplers.ts";
import { uploadCollated } from "../nn/bert/inputs.ts";
import type { CaMtl } from "../nn/ca_mtl/model.ts";
import { accumulateInto, fillTensor, zeros } from "../autograd/accumulate.ts";
import { scale } from "../ops/elementwise.ts";
import { AdamW } from "../optim/adamw.ts";
import { clipGradNorm } from "../optim/clip.ts";
import { groupParameters } from "../optim/params.ts";
import { GradScaler, type GradScalerOptions } from "../optim/grad_scaler.ts";
import { type CheckpointState, readCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { restoreTrainingState } from "./trainer_state.ts";
import { evaluateSet, type MetricFn } from "./evaluate.ts";
import { FiniteGuard } from "./finite_guard.ts";
import type { LogRecord } from "./log.ts";
import { LinearSchedule } from "./schedule.ts";

/**
 * The run settings the trainer reads, exactly as the flags give them ({@linkcode TrainArgs}:
 * HF TrainingArguments and the CA-MTL sampling flags, in camelCase).
 */
export type TrainerSettings = Pick<
  TrainArgs,
  | "outputDir"
  | "perDeviceTrainBatchSize"
  | "perDeviceEvalBatchSize"
  | "learningRate"
  | "weightDecay"
  | "adamEpsilon"
  | "maxGradNorm"
  | "numTrainEpochs"
  | "maxSteps"
  | "warmupProportion"
  | "gradientAccumulationSteps"
  | "loggingSteps"
  | "loggingFirstStep"
  | "saveSteps"
  | "saveTotalLimit"
  | "evaluateDuringTraining"
  | "seed"
  | "samplingMode"
  | "uniformMtSampling"
  | "percentOfMaxDataSize"
  | "mtUncertaintyScore"
>;

/** Trainer settings: the run's ({@linkcode TrainerSettings}) and what only the trainer takes. */
export interface TrainerOptions extends TrainerSettings {
  /**
   * Mixed precision (`--fp16`, apex O1 semantics): autocast forwards and dynamic loss scaling.
   * Needs a device with `shader-f16`. Default false.
   */
  fp16?: boolean;
  /** Loss-scaler settings under `fp16` (PyTorch's `GradScaler` defaults when left out). */
  gradScaler?: GradScalerOptions;
  /** Model `config.json` to write with checkpoints. */
  modelConfig: Record<string, unknown>;
  /** Extra text files for every checkpoint (e.g. the tokenizer's `vocab.txt`). */
  checkpointFiles?: Record<string, string>;
  /** Metrics of classification tasks in place of the registry's. */
  metrics?: MetricFn;
  /** Span extraction: the longest answer in tokens (`--max_answer_length`, default 30). */
  maxAnswerLength?: number;
}

/** Callbacks the CLI or a notebook uses to follow training. */
export interface TrainerEvents {
  onStep?(step: number, total: number, info: { loss?: number; lr: number }): void;
  onLog?(record: LogRecord): void;
  onCheckpoint?(dir: string): void;
}

/** Feature sets by role; `dev` may include `mnli-mm` carrying MNLI's task id. */
export interface TrainerData {
  train: FeatureSet[];
  dev: FeatureSet[];
}

/** A training run over one model and data. */
export class Trainer {
  readonly gpu: Gpu;
  readonly model: CaMtl;
  readonly data: TrainerData;
  readonly options: TrainerOptions;
  readonly events: TrainerEvents;
  readonly sampler: MultiTaskSampler;
  readonly optimizer: AdamW;
  readonly schedule: LinearSchedule;
  /** The dynamic loss scaler, when training with `fp16`. */
  readonly scaler: GradScaler | null;
  readonly totalSteps: number;
  readonly paramNames: string[];
  readonly #params: Tensor[];
  globalStep = 0;
  epoch = 0;
  logHistory: LogRecord[] = [];
  /** Best so far of each task's metric keys (docs/model.md §13.4), labelled as such in logs. */
  best: Record<string, Record<string, number>> = {};
  /** The predictions of the latest {@linkcode Trainer.evaluate}, by dev set's task. */
  readonly devPredictions: Map<string, TaskPredictions> = new Map();

  constructor(
    gpu: Gpu,
    model: CaMtl,
    data: TrainerData,
    options: TrainerOptions,
    events: TrainerEvents = {},
  ) {
    this.gpu = gpu;
    this.model = model;
    this.data = data;
    this.options = options;
    this.events = events;
    this.sampler = createSampler(options.samplingMode, data.train, {
      batchSize: options.perDeviceTrainBatchSize,
      seed: options.seed,
      uniformMtSampling: options.uniformMtSampling,
      percentOfMaxDataSize: options.percentOfMaxDataSize,
      scoreMode: options.mtUncertaintyScore,
      scorer: (pool) => this.#score(pool),
    });
    const perEpoch = Math.max(
      1,
      Math.floor(this.sampler.stepsPerEpoch / options.gradientAccumulationSteps),
    );
    this.totalSteps = options.maxSteps > 0
      ? options.maxSteps
      : Math.max(1, Math.ceil(perEpoch * options.numTrainEpochs));
    this.schedule = new LinearSchedule(
      options.learningRate,
      this.totalSteps,
      options.warmupProportion,
    );
    if (options.fp16) assertF16(gpu, "train with fp16");
    this.scaler = options.fp16 ? new GradScaler(options.gradScaler) : null;
    const named = model.namedParameters().filter(([, p]) => p.trainable);
    this.paramNames = named.map(([n]) => n);
    this.#params = named.map(([, p]) => p.value);
    // No weight decay for biases and LayerNorm gains (HF 2.11 groups, docs/model.md §13.2).
    this.optimizer = new AdamW(groupParameters(model, { weightDecay: options.weightDecay }), {
      lr: options.learningRate,
      eps: options.adamEpsilon,
    });
  }

  /** Runs `fn` under autocast when training in fp16 (apex O1 patches every forward alike). */
  #amp<R>(fn: () => R | Promise<R>): Promise<R> {
    return withAutocast(this.gpu, fn, this.scaler !== null);
  }

  /**
   * MT-Uncertainty scoring: a no-grad forward of the candidate pool, logits per task, read back
   * with one wait. (Running each task's candidates in a scope of its own would hold less memory,
   * but it draws dropout masks differently and so changes which batches MT-Uncertainty picks; see
   * docs/performance.md, "Memory".)
   */
  async #score(pool: Batch): Promise<Float32Array[]> {
    return await noGrad(() =>
      withScope(this.gpu, () =>
        this.#amp(async () => {
          const out = this.model.forward({
            inputs: this.#upload(pool),
            taskIds: pool.taskIds,
            tasks: pool.tasks.map((t) => ({ ...t, labels: null })),
          });
          return await readFloats(pool.tasks.map((t) => out.logits.get(t.taskId)!));
        }))
    );
  }

  #upload(batch: Batch) {
    return uploadCollated(this.gpu, batch);
  }

  async #nextBatch(): Promise<Batch> {
    let batch = await this.sampler.nextBatch();
    if (!batch) {
      this.epoch++;
      batch = await this.sampler.nextBatch();
      if (!batch) {
        throw new Error("Cannot train: the sampler yields no batches (empty training data)");
      }
    }
    return batch;
  }

  /** Restores model, optimizer, schedule position, RNG and sampler state from a checkpoint. */
  async resume(dir: string): Promise<void> {
    const saved = await readCheckpoint(dir, this.paramNames);
    restoreTrainingState(dir, saved, {
      sampler: this.sampler,
      seeds: this.model.seeds,
      scaler: this.scaler,
      optimizer: this.optimizer,
      params: this.#params,
      names: this.paramNames,
    });
    const { state } = saved;
    this.globalStep = state.global_step;
    this.epoch = state.epoch;
    this.logHistory = (state.log_history as LogRecord[]) ?? [];
    this.best = (state.best as Record<string, Record<string, number>>) ?? {};
  }

  /**
   * Dev metrics of every dev set (in order), updating the best-so-far record; the predictions
   * they were computed from are kept in {@linkcode Trainer.devPredictions}.
   */
  async evaluate(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    this.devPredictions.clear();
    for (const set of this.data.dev) {
      const { metrics: m, predictions } = await this.#amp(() =>
        evaluateSet(this.gpu, this.model, set, {
          batchSize: this.options.perDeviceEvalBatchSize,
          metrics: this.options.metrics,
          span: { maxAnswerLength: this.options.maxAnswerLength },
        })
      );
      out[set.task] = m;
      this.devPredictions.set(set.task, predictions);
      const best = this.best[set.task] ??= {};
      for (const [k, v] of Object.entries(m)) {
        if (k === "eval_loss" || Number.isNaN(v)) continue;
        if (!(k in best) || v > best[k]) best[k] = v;
      }
    }
    return out;
  }

  /** Trains until `totalSteps`; returns the loss of each logged window. */
  train(): Promise<{ globalStep: number; losses: number[] }> {
    return this.trainUntil(this.totalSteps);
  }

  /**
   * Trains until optimizer step `stop` (≤ `totalSteps`); the schedule still spans
   * `totalSteps`, so a later `train()` continues the same run.
   */
  async trainUntil(stop: number): Promise<{ globalStep: number; losses: number[] }> {
    const o = this.options;
    stop = Math.min(stop, this.totalSteps);
    this.model.train();
    const lossSum = zeros(this.gpu, [1], { persistent: true });
    // f32 only: stops at the first inf/NaN loss or gradient, read with the existing reads.
    const guard = this.scaler ? null : new FiniteGuard(this.gpu, {
      taskNames: this.model.config.tasks.map((t) => t.name),
      outputDir: o.outputDir,
    });
    const losses: number[] = [];
    let pendingSteps = 0, examples = 0, windowStart = performance.now();
    try {
      while (this.globalStep < stop) {
        const lr = this.schedule.lr(this.globalStep);
        const stepTasks = new Set<number>();
        for (let micro = 0; micro < o.gradientAccumulationSteps; micro++) {
          const batch = await this.#nextBatch();
          examples += batch.size;
          for (const t of batch.tasks) stepTasks.add(t.taskId);
          await withScope(this.gpu, async () => {
            const out = await this.#amp(() =>
              this.model.forward({
                inputs: this.#upload(batch),
                taskIds: batch.taskIds,
                tasks: batch.tasks,
              })
            );
            if (!out.loss) throw new Error("Cannot train: a training batch has no labels");
            guard?.watchLosses(out.taskLosses, this.globalStep + 1);
            const loss = o.gradientAccumulationSteps > 1
              ? scale({ a: out.loss }, { s: 1 / o.gradientAccumulationSteps })
              : out.loss;
            accumulateInto(lossSum, loss);
            // The saved f16 operands make backward mixed precision too; no autocast needed.
            backward(this.scaler ? this.scaler.scaleLoss(loss) : loss);
          });
        }
        await withScope(this.gpu, async () => {
          if (this.scaler) {
            // HF 2.11 with apex: unscale, clip the unscaled gradients, step unless inf/NaN.
            const { finite } = await this.scaler.unscaleAndClip(this.#params, o.maxGradNorm);
            if (finite) this.optimizer.step(lr);
            this.scaler.update(finite);
          } else {
            if (o.maxGradNorm > 0) {
              const norm = clipGradNorm(this.#params, o.maxGradNorm);
              guard?.watchGradient(norm, this.globalStep + 1, stepTasks);
            }
            this.optimizer.step(lr);
          }
          zeroGrad(this.#params);
        });
        this.globalStep++;
        pendingSteps++;
        const logNow = (o.loggingSteps > 0 && this.globalStep % o.loggingSteps === 0) ||
          (o.loggingFirstStep && this.globalStep === 1) || this.globalStep === this.totalSteps;
        let meanLoss: number | undefined;
        if (logNow) {
          const [sum] = guard ? await guard.readWith([lossSum]) : [await lossSum.readFloat()];
          meanLoss = sum[0] / pendingSteps;
          fillTensor(lossSum, 0);
          losses.push(meanLoss);
          const seconds = (performance.now() - windowStart) / 1000;
          const record = this.#record(meanLoss, lr, examples / Math.max(seconds, 1e-9));
          if (o.evaluateDuringTraining && this.data.dev.length > 0) {
            record.eval = await this.evaluate();
            record.best = structuredClone(this.best);
          }
          this.logHistory.push(record);
          this.events.onLog?.(record);
          pendingSteps = 0;
          examples = 0;
          windowStart = performance.now();
        }
        this.events.onStep?.(this.globalStep, this.totalSteps, { loss: meanLoss, lr });
        if (o.saveSteps > 0 && this.globalStep % o.saveSteps === 0) {
          await guard?.check(); // a step with a NaN is never saved as a checkpoint
          // Not `onCheckpoint?.(await …)`: optional calls skip evaluating their arguments.
          const saved = await this.saveCheckpoint();
          this.events.onCheckpoint?.(saved);
        }
      }
      await guard?.check();
    } finally {
      lossSum.dispose();
      guard?.dispose();
    }
    return { globalStep: this.globalStep, losses };
  }

  #record(loss: number, lr: number, rate: number): LogRecord {
    const stats = this.sampler.stats();
    const sampler: Record<string, number> = {};
    for (const t of stats.tasks) sampler[t.task] = t.drawn;
    return {
      step: this.globalStep,
      epoch: this.epoch + stats.stepInEpoch / Math.max(1, stats.stepsPerEpoch),
      loss,
      learning_rate: lr,
      examples_per_second: rate,
      sampler,
      ...(stats.candidateFraction !== undefined
        ? { candidate_fraction: stats.candidateFraction }
        : {}),
      ...(this.scaler ? { loss_scale: this.scaler.scale } : {}),
    };
  }

  /** Writes `checkpoint-<globalStep>` (atomically) and prunes old ones. */
  async saveCheckpoint(): Promise<string> {
    const state: CheckpointState = {
      global_step: this.globalStep,
      epoch: this.epoch,
      dropout_seed_state: this.model.seeds.state,
      sampler: this.sampler.saveState(),
      log_history: this.logHistory,
      best: this.best,
      total_steps: this.totalSteps,
      ...(this.scaler ? { grad_scaler: this.scaler.state() } : {}),
    };
    return await saveCheckpoint(this.options.outputDir, {
      model: this.model,
      modelConfig: this.options.modelConfig,
      optimizer: this.optimizer,
      paramNames: this.paramNames,
      state,
      files: this.options.checkpointFiles,
    }, this.options.saveTotalLimit);
  }

  /** Frees the optimizer state. */
  dispose(): void {
    this.optimizer.dispose();
  }
}
