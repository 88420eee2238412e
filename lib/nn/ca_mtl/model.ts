/**
 * `CaMtl`: one encoder shared by every task, a task embedding that conditions it, and one head
 * per task (spec §3.9). Keys: `bert.task_type_embeddings`, `bert.conditional_alignment`,
 * `bert.embeddings`, `bert.encoder`, `bert.pooler`, `decoders.N.model`. With the `bert`
 * architecture the encoder is a plain `BertModel` (the hard-sharing baseline) and task ids only
 * pick the head.
 *
 * @module
 */

import { noGradSync } from "../../autograd/grad_mode.ts";
import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import { normalizedEntropy } from "../../ops/cross_entropy.ts";
import { add, scale } from "../../ops/elementwise.ts";
import { gatherRows } from "../../ops/gather.ts";
import type { BertInputs } from "../bert/inputs.ts";
import { BertEmbeddings } from "../bert/embeddings.ts";
import { BertModel, BertPooler, ModuleList } from "../bert/model.ts";
import { Dropout, Embedding, Linear } from "../layers.ts";
import { Module } from "../module.ts";
import { SeedStream } from "../seeds.ts";
import { FilmGenerator } from "./conditional.ts";
import type { CaMtlConfig, TaskSpec } from "./config.ts";
import { CaMtlBaseEncoder, CaMtlLargeEncoder } from "./layers.ts";
import { taskLoss } from "./loss.ts";

/** The CA-MTL encoder (`bert.*`): embeddings, alignment, conditioned layers and pooler. */
export class CaMtlEncoderModel extends Module {
  readonly taskTypeEmbeddings: Embedding;
  readonly conditionalAlignment: FilmGenerator;
  readonly embeddings: BertEmbeddings;
  readonly encoder: CaMtlBaseEncoder | CaMtlLargeEncoder;
  readonly pooler: BertPooler;

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

  /** @param taskIds i32 `[B]` @returns sequence `[B, S, C]` and pooled `[B, C]` */
  forward(inputs: BertInputs, taskIds: Tensor): { sequence: Tensor; pooled: Tensor } {
    const z = this.taskTypeEmbeddings.forward(taskIds); // [B, C]
    const aligned = this.conditionalAlignment.forward(this.embeddings.forward(inputs), z);
    const sequence = this.encoder.forward(aligned, inputs.maskBias, z);
    return { sequence, pooled: this.pooler.forward(sequence) };
  }
}

/** One task head (`decoders.N`): dropout on the pooled [CLS], then `model`: H → C_t. */
export class Decoder extends Module {
  readonly task: TaskSpec;
  readonly dropout: Dropout;
  readonly model: Linear;

  constructor(hidden: number, task: TaskSpec, seeds: SeedStream, std: number) {
    super();
    this.task = task;
    this.dropout = this.child("dropout", new Dropout(0.1, seeds));
    this.model = this.child("model", new Linear(hidden, task.numLabels, { std }));
  }

  /** @param pooled `[n, H]` @returns logits `[n, C_t]` */
  forward(pooled: Tensor): Tensor {
    return this.model.forward(this.dropout.forward(pooled));
  }
}

/** The rows of one task in a batch and their labels (class indices or regression targets). */
export interface TaskRows {
  taskId: number;
  /** Row numbers in the batch, ascending. */
  rows: Int32Array;
  /** Labels of those rows, or null when unlabelled (test data, MT-Uncertainty scoring). */
  labels: Int32Array | Float32Array | null;
}

/** A batch for the model: inputs, each example's task id, and optionally its task slices. */
export interface TaskBatch {
  inputs: BertInputs;
  /** Host task ids `[B]`, positions in the task list. */
  taskIds: Int32Array;
  /** One entry per task present, ascending task id; derived from `taskIds` when absent. */
  tasks?: readonly TaskRows[];
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
  /** Task id → logits `[n_t, C_t]` for that task's examples, in batch order. */
  logits: Map<number, Tensor>;
  /** Task id → positions of its examples in the batch. */
  rows: Map<number, Int32Array>;
  /** Task id → normalised entropy `[n_t]` (H / ln C_t; 0 for regression), no gradient. */
  entropy: Map<number, Tensor>;
  /** Mean over the tasks present of each task's mean loss (when labels were given). */
  loss?: Tensor;
  /** Task id → that task's mean loss `[1]`. */
  taskLosses: Map<number, Tensor>;
}

/** CA-MTL (or the plain multi-task BERT baseline) with per-task heads. */
export class CaMtl extends Module {
  readonly config: CaMtlConfig;
  readonly seeds: SeedStream;
  readonly bert: CaMtlEncoderModel | BertModel;
  readonly decoders: ModuleList<Decoder>;

  constructor(config: CaMtlConfig, { seed = 42 }: { seed?: number } = {}) {
    super();
    if (config.tasks.length === 0) {
      throw new RangeError("Cannot build CA-MTL: the task list is empty");
    }
    this.config = config;
    this.seeds = new SeedStream(seed);
    this.bert = this.child(
      "bert",
      config.architecture === "bert"
        ? new BertModel(config.bert, { seeds: this.seeds })
        : new CaMtlEncoderModel(config, this.seeds),
    );
    const C = config.bert.hiddenSize, std = config.bert.initializerRange;
    this.decoders = this.child(
      "decoders",
      new ModuleList(config.tasks.map((t) => new Decoder(C, t, this.seeds, std))),
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
   * losses (spec §5.1).
   */
  forward(batch: TaskBatch): CaMtlOutput {
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
    const pooled = this.bert instanceof BertModel
      ? this.bert.forward(inputs).pooled
      : this.bert.forward(inputs, ids).pooled;
    const slices = batch.tasks ?? taskRowsOf(taskIds);
    const out: CaMtlOutput = {
      logits: new Map(),
      rows: new Map(),
      entropy: new Map(),
      taskLosses: new Map(),
    };
    let total: Tensor | null = null;
    for (const { taskId: t, rows, labels } of slices) {
      const own = slices.length === 1 && rows.length === B ? pooled : gatherRows({ x: pooled }, {
        index: fromArray(gpu, rows, [rows.length], { dtype: "i32" }),
      });
      const logits = this.decoders.items[t].forward(own);
      out.logits.set(t, logits);
      out.rows.set(t, rows);
      out.entropy.set(t, noGradSync(() => normalizedEntropy(logits, { eps: 1e-5 })));
      if (labels) {
        const loss = taskLoss(logits, labels, { task: this.config.tasks[t].name });
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
