/**
 * Load-time checks that the parts of a run belong together, each naming both sides: a
 * tokenizer whose ids fit the model's embedding table, and a `config.json` that agrees with the
 * weights stored beside it (the tasks asked for against a saved CA-MTL model's heads are checked
 * by `checkSavedTasks` in `ca_mtl/config.ts`). A mismatch that passed here would show up hours
 * later as clamped ids or a head scoring the wrong task.
 *
 * @module
 */

import { CheckpointError } from "../io/errors.ts";

/**
 * Throws unless every id of a `tokenizerSize`-token vocabulary has a row in a `vocabSize`-row
 * embedding table (a smaller vocabulary is fine: tables are often padded).
 *
 * @param tokenizer the vocabulary's size and where it came from (`vocab.txt`, a folder)
 * @param model the model's `vocab_size` and its `config.json`
 * @throws {CheckpointError} naming both files, both sizes and the ids that would not fit
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkVocabularyFits } from "./matching_parts.ts";
 * checkVocabularyFits({ size: 400, source: "vocab.txt" }, { vocabSize: 402, source: "config.json" });
 * throws(() => checkVocabularyFits({ size: 405, source: "vocab.txt" }, { vocabSize: 402, source: "config.json" }));
 * ```
 */
export function checkVocabularyFits(
  tokenizer: { size: number; source: string },
  model: { vocabSize: number; source: string },
): void {
  if (tokenizer.size <= model.vocabSize) return;
  const ids = tokenizer.size - model.vocabSize === 1
    ? `token id ${model.vocabSize} has`
    : `token ids ${model.vocabSize} to ${tokenizer.size - 1} have`;
  throw new CheckpointError(
    `Cannot use the tokenizer "${tokenizer.source}" (${tokenizer.size} tokens) with the model ` +
      `"${model.source}" (vocab_size ${model.vocabSize}): ${ids} no embedding row; use the ` +
      `tokenizer saved with the model, or a model whose vocab_size is at least ${tokenizer.size}`,
    { file: model.source },
  );
}

/**
 * Re-raises a load error whose keys are mis-shaped as a disagreement between the weights and
 * the `config.json` the model was built from (other errors pass through unchanged).
 */
export function blameConfig(error: unknown, configFile: string): unknown {
  if (!(error instanceof CheckpointError) || error.mismatched.length === 0) return error;
  return new CheckpointError(
    `Cannot load "${error.file}": its weights disagree with "${configFile}" (the config gives ` +
      `the expected shapes; fix or replace one of the two)`,
    {
      file: error.file,
      missing: error.missing,
      mismatched: error.mismatched,
      unexpected: error.unexpected,
      cause: error,
    },
  );
}
