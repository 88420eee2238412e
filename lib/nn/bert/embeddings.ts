/**
 * BERT's embedding block: word + position + token-type embeddings, then LayerNorm and dropout
 * (HF `BertEmbeddings`). Keys: `word_embeddings`, `position_embeddings`,
 * `token_type_embeddings`, `LayerNorm`.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import type { BertConfig } from "../../io/config.ts";
import { add } from "../../ops/elementwise.ts";
import { Dropout, Embedding, LayerNorm } from "../layers.ts";
import { Module } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import type { BertInputs } from "./inputs.ts";
import { checkBertBatch, checkSequenceLength } from "../validate_inputs.ts";

/** HF `BertEmbeddings`. */
export class BertEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly layerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(config: BertConfig, seeds: SeedStream) {
    super();
    const std = config.initializerRange;
    const C = config.hiddenSize;
    // HF 2.x: nn.Embedding(vocab_size, hidden_size, padding_idx=0), so [PAD] gets no gradient.
    const paddingIdx = Number(config.extra.pad_token_id ?? 0);
    this.wordEmbeddings = this.child(
      "word_embeddings",
      new Embedding(config.vocabSize, C, { std, paddingIdx }),
    );
    this.positionEmbeddings = this.child(
      "position_embeddings",
      new Embedding(config.maxPositionEmbeddings, C, { std }),
    );
    this.tokenTypeEmbeddings = this.child(
      "token_type_embeddings",
      new Embedding(config.typeVocabSize, C, { std }),
    );
    this.layerNorm = this.child("LayerNorm", new LayerNorm(C, config.layerNormEps));
    this.dropout = this.child("dropout", new Dropout(config.hiddenDropoutProb, seeds));
  }

  /**
   * @returns `[B, T, C]`
   * @throws {RangeError} when the batch is longer than the position table, or (for a batch
   *   from `uploadBatch`) an id or token type lies outside its table
   */
  forward(inputs: BertInputs): Tensor {
    const maxPositionEmbeddings = this.positionEmbeddings.weight.shape[0];
    checkSequenceLength(inputs.seqLength, maxPositionEmbeddings);
    if (inputs.host) {
      checkBertBatch({ ...inputs.host, batchSize: inputs.batchSize, seqLength: inputs.seqLength }, {
        vocabSize: this.wordEmbeddings.weight.shape[0],
        typeVocabSize: this.tokenTypeEmbeddings.weight.shape[0],
        maxPositionEmbeddings,
      });
    }
    const words = this.wordEmbeddings.forward(inputs.inputIds); // [B, T, C]
    const positions = this.positionEmbeddings.forward(inputs.positionIds); // [T, C]
    const types = this.tokenTypeEmbeddings.forward(inputs.tokenTypeIds); // [B, T, C]
    const sum = add({ a: add({ a: words, b: positions }), b: types });
    return this.dropout.forward(this.layerNorm.forward(sum));
  }
}
