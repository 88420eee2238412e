/**
 * The shared part of the task feature builders: checked options, the growing id, token-type
 * and offset arrays, and the finished {@linkcode FeatureSet}.
 *
 * @module
 */

import type { TokenOffsets } from "../text/offsets.ts";
import { int32s, uint8s } from "./_growable.ts";
import type { ExampleMeta, FeatureExtras } from "./feature_extras.ts";
import { featureKey } from "./feature_key.ts";
import { type FeatureKey, FeatureSet, type FeatureTokenizer, type LabelArray } from "./features.ts";
import { getTask, type TaskDefinition } from "./tasks.ts";

/**
 * What the task feature builders need from a tokenizer (`BertTokenizer` has it all): pair
 * encoding, token ids with character offsets, and the special ids.
 */
export interface TaskTokenizer extends FeatureTokenizer {
  /** Token ids of `text` with each token's character span. */
  tokenizeWithOffsets(text: string): TokenOffsets;
  /** Id of `[CLS]`. */
  readonly clsId: number;
  /** Id of `[SEP]`. */
  readonly sepId: number;
}

/** Options every task feature builder takes. */
export interface TaskBuildOptions {
  /** Encodes the texts. */
  tokenizer: TaskTokenizer;
  /** Registered task name. */
  task: string;
  /** Position of the task in `--tasks`. */
  taskId: number;
  /** `train`, `dev` or `test`. */
  split: string;
  /** Longest sequence, special tokens included (`--max_seq_length`). */
  maxSeqLength: number;
}

/** Ids, token types and offsets growing sequence by sequence, then a {@linkcode FeatureSet}. */
export class SetBuilder {
  readonly def: TaskDefinition;
  readonly key: FeatureKey;
  readonly ids = int32s(1 << 16);
  readonly types = uint8s(1 << 16);
  readonly offsets = int32s();
  readonly #padId: number;

  /**
   * @param options The builder's options.
   * @param check The head kind the builder makes features for and the shortest max_seq_length.
   * @param extraKey Key fields beyond the common ones (span extraction's window settings).
   * @throws {RangeError} For an unknown task, a task of another head kind, a max_seq_length
   * below `minLength` or a bad task id.
   */
  constructor(
    options: TaskBuildOptions,
    check: { head: string; minLength: number },
    extraKey: Pick<FeatureKey, "docStride" | "maxQueryLength"> = {},
  ) {
    const { tokenizer, taskId, split, maxSeqLength } = options;
    this.def = getTask(options.task);
    const task = this.def.name;
    if ((this.def.head ?? "classification") !== check.head) {
      throw new RangeError(
        `Cannot build ${check.head} features of "${task}": its head is "${
          this.def.head ?? "classification"
        }"`,
      );
    }
    if (!Number.isInteger(maxSeqLength) || maxSeqLength < check.minLength) {
      throw new RangeError(
        `Cannot build features of "${task}": maxSeqLength is ${maxSeqLength}, it must be an integer of at least ${check.minLength}`,
      );
    }
    if (!Number.isInteger(taskId) || taskId < 0) {
      throw new RangeError(`Cannot build features of "${task}": taskId is ${taskId}`);
    }
    this.key = featureKey({ task, taskId, split, tokenizer, maxSeqLength }, extraKey);
    this.#padId = tokenizer.padId ?? 0;
    this.offsets.push(0);
  }

  /** Appends one sequence. */
  add(ids: ArrayLike<number>, types: ArrayLike<number>): void {
    this.ids.pushAll(ids);
    this.types.pushAll(types);
    this.offsets.push(this.ids.size);
  }

  /** The feature set of the sequences added. */
  finish(
    parts: { labels: LabelArray | null; extras: FeatureExtras | null; meta: ExampleMeta | null },
  ): FeatureSet {
    return new FeatureSet(this.key, {
      offsets: this.offsets.done(),
      inputIds: this.ids.done(),
      tokenTypeIds: this.types.done(),
      skipped: 0,
      padId: this.#padId,
      ...parts,
    });
  }
}
