/**
 * `CaMtl`: one encoder shared by every task, a task embedding that conditions it, and one head
 * per task (docs/model.md §8). Keys: `bert.task_type_embeddings`, `bert.conditional_alignment`,
 * `bert.embeddings`, `bert.encoder`, `bert.pooler`, and per task `decoders.N.model`,
 * `decoders.N.classifier` or `decoders.N.qa_outputs` by head kind (`heads.ts`). With the `bert`
 * architecture the encoder is a plain `BertModel` (the hard-sharing baseline) and task ids only
 * pick the head.
 *
 * @module
 */

import { noGradSync } from "../../autograd/grad_mode.ts";
import { forwardScope } from "../../autograd/scope.ts";
import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import { normalizedEntropy } from "../../ops/cross_entropy.ts";
import { add, scale } from "../../ops/elementwise.ts";
import type { Batch } from "../../data/loader.ts";
import type { Gpu } from "../../gpu/device.ts";
import { type BertInputs, uploadCollated } from "../bert/inputs.ts";
import { BertEmbeddings } from "../bert/embeddings.ts";
import { BertModel, BertPooler } from "../bert/model.ts";
import { Embedding, ModuleList } from "../layers.ts";
import { Module } from "../module.ts";
import { SeedStream } from "../seeds.ts";
import { FilmGenerator } from "./conditional.ts";
import { type CaMtlConfig, resolveTaskSpec } from "./config.ts";
import { makeHead, type TaskHead, type TaskRows } from "./heads.ts";
import { CaMtlBaseEncoder, CaMtlLargeEncoder } from "./layers.ts";

/**
 * The CA-MTL encoder (`CaMtl.bert`, keys `bert.*`): BERT embeddings aligned to the task by a
 * FiLM of the task embedding, the conditioned encoder layers, and the pooler.
 */
export class CaMtlEncoderModel extends Module {
  /** One learned vector per task, `[T, C]` (key `task_type_embeddings`). */
  readonly taskTypeEmbeddings: Embedding;
  /**
   * The FiLM generator that aligns the embeddings to the task (key `conditional_alignment`).
   *
   * @internal
   */
  readonly conditionalAlignment: FilmGenerator;
  /**
   * Word, position and token-type embeddings (keys `embeddings.*`).
   *
   * @internal
   */
  readonly embeddings: BertEmbeddings;
  /**
   * The conditioned encoder layers (keys `encoder.*`).
   *
   * @internal
   */
  readonly encoder: CaMtlBaseEncoder | CaMtlLargeEncoder;
  /**
   * The tanh pooler on [CLS] (keys `pooler.dense.*`).
   *
   * @internal
   */
  readonly pooler: BertPooler;

  /**
   * Declares the encoder for `config` (no GPU memory until `materialize`).
   *
   * @param config The architecture, BERT sizes, tasks and max_seq_length.
   * @param seeds The model's dropout seed stream.
   */
  constructor(config: CaMtlConfig, seeds: SeedStream) {
    super();
    const bert = config.bert, C = bert.hiddenSize, std = bert.initializerRange;
    this.taskTypeEmbeddings = this.child(
      "task_type_embeddings",
      new Embedding(config.tasks.length, C, { std }),
    );
    this.conditionalAlignment = this.child("conditional_alignment", new FilmGenerator(C, C, std));
    this.embeddings = this.child("embeddings", new BertEmbeddings(bert, seeds));
    const Encoder = config.architecture === "CA-MTL-large" ? CaMtlLargeEncoder : CaMtlBaseEncoder;
    this.encoder = this.child("encoder", new Encoder(bert, seeds, config.maxSeqLength));
    this.pooler = this.child("pooler", new BertPooler(bert));
  }

  /**
   * Encodes a batch conditioned on each example's task.
   *
   * @param inputs The uploaded batch.
   * @param taskIds i32 `[B]`, each example's task id
   * @param clsOnly the last layer computes the [CLS] position only (docs/model.md §8.8)
   * @returns sequence `[B, T, C]` (`[B, 1, C]` with `clsOnly`) and pooled `[B, C]`
   */
  forward(
    inputs: BertInputs,
    taskIds: Tensor,
    clsOnly = false,
  ): { sequence: Tensor; pooled: Tensor } {
    const z = this.taskTypeEmbeddings.forward(taskIds); // [B, C]
    const aligned = this.conditionalAlignment.forward(this.embeddings.forward(inputs), z);
    const sequence = this.encoder.forward(aligned, inputs.maskBias, z, clsOnly);
    return { sequence, pooled: this.pooler.forward(sequence) };
  }
}

export type { TaskRows } from "./heads.ts";

/** A batch for the model: inputs, each example's task id, and optionally its task slices. */
export interface TaskBatch {
  /** The uploaded batch (`uploadBatch`). */
  inputs: BertInputs;
  /** Host task ids `[B]`, positions in the task list. */
  taskIds: Int32Array;
  /** One entry per task present, ascending task id; derived from `taskIds` when absent. */
  tasks?: readonly TaskRows[];
}

/** A collated batch uploaded for the model (freed with the forward); a `TaskBatch` as it is. */
function asTaskBatch(gpu: Gpu, batch: TaskBatch | Batch): TaskBatch {
  if ("inputs" in batch) return batch;
  return {
    inputs: uploadCollated(gpu, batch),
    taskIds: batch.taskIds,
    tasks: batch.tasks,
  };
}

/** Groups a batch's rows by task id, ascending (no labels). */
export function taskRowsOf(taskIds: Int32Array): TaskRows[] {
  const present = [...new Set(taskIds)].sort((a, b) => a - b);
  return present.map((taskId) => ({
    taskId,
    rows: Int32Array.from(taskIds.keys()).filter((i) => taskIds[i] === taskId),
    labels: null,
  }));
}

/** What a forward returns: logits and normalised entropies per task present, and the loss. */
export interface CaMtlOutput {
  /**
   * Task id → that task's logits, rows in batch order (docs/model.md §8.3): `[n_t, k_t]` for
   * classification, `[n_t, T, k_t]` for token classification, `[n_t, T, 2]` (start, end) for
   * span extraction, `[n_t / k_t, k_t]` (one row of choice scores per example) for multiple
   * choice.
   */
  logits: Map<number, Tensor>;
  /** Task id → positions of its rows in the batch (every choice row for multiple choice). */
  rows: Map<number, Int32Array>;
  /**
   * Task id → normalised entropy of each row of a 2-D logits tensor (entropy / ln k_t; 0 for
   * regression), no gradient: classification and multiple-choice heads only. Filled only when
   * the forward was asked for it (`{ entropy: true }`): training never reads it.
   */
  entropy: Map<number, Tensor>;
  /** Mean over the tasks present of each task's mean loss (when labels were given). */
  loss?: Tensor;
  /** Task id → that task's mean loss `[1]`. */
  taskLosses: Map<number, Tensor>;
}

/**
 * CA-MTL (or the plain multi-task BERT baseline) with per-task heads: the shared encoder under
 * `bert.*`, conditioned on a task embedding, and one head per task under `decoders.N.*`
 * (classification, token classification, span extraction or multiple choice). A forward takes a
 * batch that mixes tasks and runs each task's head on its own rows.
 *
 * @example Build CA-MTL-tiny for two tasks and take one training step's loss
 * ```ts ignore
 * const gpu = await requestGpu();
 * const model = new CaMtl({
 *   architecture: "CA-MTL-base",
 *   bert: caMtlTinyBert(tokenizer.vocabSize),
 *   tasks: [{ name: "sst-2", numLabels: 2 }, { name: "sts-b", numLabels: 1 }],
 *   maxSeqLength: 64,
 * }).materialize(gpu, 42);
 * const batch = await sampler.nextBatch(); // a collated batch of both tasks
 * const { loss, logits } = model.forward(batch!);
 * backward(loss!);
 * console.log(logits.get(model.taskId("sts-b"))?.shape); // [n_sts-b, 1]
 * ```
 */
export class CaMtl extends Module {
  /** The architecture, BERT sizes, tasks and max_seq_length the model was built from. */
  readonly config: CaMtlConfig;
  /** The dropout seed stream of every `Dropout` in the model. */
  readonly seeds: SeedStream;
  /**
   * The shared encoder (keys `bert.*`): the conditioned CA-MTL encoder, or a plain `BertModel`
   * for the `bert` architecture. {@linkcode freezeEncoderLayers} takes it.
   */
  readonly bert: CaMtlEncoderModel | BertModel;
  /**
   * The task heads, in task-list order (keys `decoders.N.*`).
   *
   * @internal
   */
  readonly decoders: ModuleList<TaskHead>;

  /**
   * Declares the model (no GPU memory until `materialize`).
   *
   * @param config The architecture, BERT sizes, tasks and max_seq_length; `config.tasks` is
   *   kept with each head kind resolved (`resolveTaskSpec`).
   * @param options `seed` of the dropout seed stream (default 42).
   * @throws {RangeError} when the task list is empty or a task's head does not fit its size.
   */
  constructor(config: CaMtlConfig, { seed = 42 }: { seed?: number } = {}) {
    super();
    if (config.tasks.length === 0) {
      throw new RangeError("Cannot build CA-MTL: the task list is empty");
    }
    const tasks = config.tasks.map(resolveTaskSpec);
    this.config = { ...config, tasks };
    this.seeds = new SeedStream(seed);
    this.bert = this.child(
      "bert",
      config.architecture === "bert"
        ? new BertModel(config.bert, { seeds: this.seeds })
        : new CaMtlEncoderModel(config, this.seeds),
    );
    const { hiddenSize: hidden, initializerRange: std, hiddenDropoutProb } = config.bert;
    const sizes = { hidden, std, dropout: hiddenDropoutProb };
    this.decoders = this.child(
      "decoders",
      new ModuleList(tasks.map((t) => makeHead(t, sizes, this.seeds))),
    );
  }

  /** Index of task `name` in the task list. @throws {RangeError} for an unknown task */
  taskId(name: string): number {
    const i = this.config.tasks.findIndex((t) => t.name === name);
    if (i < 0) {
      throw new RangeError(
        `Cannot find task "${name}": the model has ${
          this.config.tasks.map((t) => t.name).join(", ")
        }`,
      );
    }
    return i;
  }

  /**
   * Encodes the batch, runs each present task's head on its own rows (tasks in ascending id),
   * and, when every task slice has labels, returns the unweighted mean of the per-task mean
   * losses (docs/model.md §8.2). With `{ entropy: true }` it also returns each task's
   * normalised entropies, which cost a kernel a task and which training does not need.
   */
  forward(batch: TaskBatch | Batch, options: { entropy?: boolean } = {}): CaMtlOutput {
    const gpu = this.bert.embeddings.wordEmbeddings.weight.value.gpu;
    return forwardScope(
      gpu,
      () => this.#forward(asTaskBatch(gpu, batch), options.entropy ?? false),
    );
  }

  #forward(batch: TaskBatch, withEntropy: boolean): CaMtlOutput {
    const { inputs, taskIds } = batch;
    const B = inputs.batchSize;
    if (taskIds.length !== B) {
      throw new TypeError(`Cannot run CA-MTL: ${taskIds.length} task ids for a batch of ${B}`);
    }
    for (const t of taskIds) {
      if (!(t >= 0 && t < this.config.tasks.length)) {
        throw new RangeError(
          `Cannot run CA-MTL: task id ${t} is outside 0..${this.config.tasks.length - 1}`,
        );
      }
    }
    const gpu = inputs.inputIds.gpu;
    const ids = fromArray(gpu, taskIds, [B], { dtype: "i32" });
    const slices = batch.tasks ?? taskRowsOf(taskIds);
    // Only the pooler reads the encoder when no head of the batch reads the sequence.
    const clsOnly = slices.every((s) => !this.decoders.items[s.taskId].readsSequence);
    const { sequence, pooled } = this.bert instanceof BertModel
      ? this.bert.forward(inputs, { clsOnly })
      : this.bert.forward(inputs, ids, clsOnly);
    const out: CaMtlOutput = {
      logits: new Map(),
      rows: new Map(),
      entropy: new Map(),
      taskLosses: new Map(),
    };
    let total: Tensor | null = null;
    for (const slice of slices) {
      const t = slice.taskId, head = this.decoders.items[t];
      const logits = head.forward({ sequence, pooled, slice });
      out.logits.set(t, logits);
      out.rows.set(t, slice.rows);
      if (withEntropy && logits.shape.length === 2) {
        out.entropy.set(t, noGradSync(() => normalizedEntropy(logits, { eps: 1e-5 })));
      }
      const loss = head.loss(logits, slice);
      if (loss) {
        out.taskLosses.set(t, loss);
        total = total ? add({ a: total, b: loss }) : loss;
      }
    }
    if (total && out.taskLosses.size === slices.length) {
      out.loss = slices.length === 1 ? total : scale({ a: total }, { s: 1 / slices.length });
    }
    return out;
  }
}
