/**
 * `BertConfig`: the camelCase mirror of a Hugging Face BERT `config.json`. The snake_case ↔
 * camelCase mapping, defaults and checks live in one table ({@linkcode BERT_CONFIG_FIELDS});
 * keys the table does not know pass through unchanged in `extra`.
 *
 * Defaults are those of transformers' `BertConfig` for fields that do not change the
 * weights' shapes; shape-defining sizes are required, so a wrong file fails loudly instead of
 * silently becoming bert-base.
 *
 * @module
 */

import { CheckpointError } from "./errors.ts";

/** BERT hyper-parameters, named after their `config.json` keys in camelCase. */
export interface BertConfig {
  /** `vocab_size`: V, rows of the word embedding. */
  vocabSize: number;
  /** `hidden_size`: C. */
  hiddenSize: number;
  /** `num_hidden_layers`: L. */
  numHiddenLayers: number;
  /** `num_attention_heads`: NH; C must be a multiple of it. */
  numAttentionHeads: number;
  /** `intermediate_size`: I, width of the feed-forward layer. */
  intermediateSize: number;
  /** `hidden_act`: activation name (`"gelu"`, ...). */
  hiddenAct: string;
  /** `hidden_dropout_prob`. */
  hiddenDropoutProb: number;
  /** `attention_probs_dropout_prob`. */
  attentionProbsDropoutProb: number;
  /** `max_position_embeddings`: rows of the position embedding. */
  maxPositionEmbeddings: number;
  /** `type_vocab_size`: rows of the token-type embedding. */
  typeVocabSize: number;
  /** `layer_norm_eps`. */
  layerNormEps: number;
  /** `initializer_range`: std of the N(0, σ) weight init. */
  initializerRange: number;
  /** Every other `config.json` key, unchanged (snake_case), e.g. `id2label`, `model_type`. */
  extra: Record<string, unknown>;
}

type Field = Exclude<keyof BertConfig, "extra">;
type Kind = "count" | "probability" | "positive" | "nonNegative" | "name";

/** The one table: camelCase field, `config.json` key, kind of value, default (none = required). */
export const BERT_CONFIG_FIELDS: ReadonlyArray<
  { field: Field; json: string; kind: Kind; fallback?: number | string }
> = Object.freeze([
  { field: "vocabSize", json: "vocab_size", kind: "count" },
  { field: "hiddenSize", json: "hidden_size", kind: "count" },
  { field: "numHiddenLayers", json: "num_hidden_layers", kind: "count" },
  { field: "numAttentionHeads", json: "num_attention_heads", kind: "count" },
  { field: "intermediateSize", json: "intermediate_size", kind: "count" },
  { field: "hiddenAct", json: "hidden_act", kind: "name", fallback: "gelu" },
  { field: "hiddenDropoutProb", json: "hidden_dropout_prob", kind: "probability", fallback: 0.1 },
  {
    field: "attentionProbsDropoutProb",
    json: "attention_probs_dropout_prob",
    kind: "probability",
    fallback: 0.1,
  },
  { field: "maxPositionEmbeddings", json: "max_position_embeddings", kind: "count", fallback: 512 },
  { field: "typeVocabSize", json: "type_vocab_size", kind: "count", fallback: 2 },
  { field: "layerNormEps", json: "layer_norm_eps", kind: "positive", fallback: 1e-12 },
  { field: "initializerRange", json: "initializer_range", kind: "nonNegative", fallback: 0.02 },
]);

const CHECKS: Record<Kind, [(v: unknown) => boolean, string]> = {
  count: [(v) => Number.isSafeInteger(v) && (v as number) > 0, "a positive integer"],
  probability: [(v) => typeof v === "number" && v >= 0 && v < 1, "a number in [0, 1)"],
  positive: [(v) => typeof v === "number" && v > 0 && Number.isFinite(v), "a positive number"],
  nonNegative: [
    (v) => typeof v === "number" && v >= 0 && Number.isFinite(v),
    "a non-negative number",
  ],
  name: [(v) => typeof v === "string" && v.length > 0, "a non-empty string"],
};

/**
 * Build a {@linkcode BertConfig} from a parsed `config.json` object.
 *
 * @param obj The parsed JSON.
 * @param file The file it came from, named in errors.
 * @returns The validated config; unknown keys are kept in `extra`.
 * @throws {CheckpointError} When a field is missing or invalid, naming the key and the file.
 *
 * @example Read the sizes of a tiny config
 * ```ts
 * import { bertConfigFromJson } from "./config.ts";
 * import { equal } from "node:assert/strict";
 * const cfg = bertConfigFromJson({
 *   vocab_size: 100, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2,
 *   intermediate_size: 32, model_type: "bert",
 * }, "config.json");
 * equal(cfg.hiddenSize, 8);
 * equal(cfg.layerNormEps, 1e-12);
 * equal(cfg.extra.model_type, "bert");
 * ```
 */
export function bertConfigFromJson(obj: unknown, file: string): BertConfig {
  const fail = (state: string): never => {
    throw new CheckpointError(`Cannot read BERT config "${file}": ${state}`, { file });
  };
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    fail("it is not a JSON object");
  }
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const { field, json, kind, fallback } of BERT_CONFIG_FIELDS) {
    known.add(json);
    const value = Object.hasOwn(src, json) ? src[json] : fallback;
    if (value === undefined) fail(`"${json}" is missing`);
    const [ok, what] = CHECKS[kind];
    if (!ok(value)) fail(`"${json}" is ${JSON.stringify(value)}, expected ${what}`);
    out[field] = value;
  }
  const cfg = out as Omit<BertConfig, "extra">;
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    fail(
      `"hidden_size" ${cfg.hiddenSize} is not a multiple of ` +
        `"num_attention_heads" ${cfg.numAttentionHeads}`,
    );
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) if (!known.has(k)) extra[k] = v;
  return { ...cfg, extra };
}

/**
 * Turn a {@linkcode BertConfig} back into `config.json` form: snake_case keys, `extra`
 * merged in, keys sorted as transformers writes them.
 *
 * @param cfg The config.
 * @returns A plain object ready for `JSON.stringify`.
 *
 * @example Round trip
 * ```ts
 * import { bertConfigFromJson, bertConfigToJson } from "./config.ts";
 * import { deepEqual } from "node:assert/strict";
 * const json = {
 *   attention_probs_dropout_prob: 0.1, hidden_act: "gelu", hidden_dropout_prob: 0.1,
 *   hidden_size: 8, initializer_range: 0.02, intermediate_size: 32, layer_norm_eps: 1e-12,
 *   max_position_embeddings: 16, model_type: "bert", num_attention_heads: 2,
 *   num_hidden_layers: 2, type_vocab_size: 2, vocab_size: 100,
 * };
 * deepEqual(bertConfigToJson(bertConfigFromJson(json, "config.json")), json);
 * ```
 */
export function bertConfigToJson(cfg: BertConfig): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...cfg.extra };
  for (const { field, json } of BERT_CONFIG_FIELDS) merged[json] = cfg[field];
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
}

/**
 * Read and validate a Hugging Face BERT `config.json` file (snake_case keys become the camelCase
 * fields of {@linkcode BertConfig}; keys it does not know are kept in `extra`).
 *
 * @param path The file.
 * @returns The config.
 * @throws {CheckpointError} When the file is not JSON or a field is invalid.
 * @example A smaller model with a checkpoint's vocabulary and defaults
 * ```ts ignore
 * const base = await readBertConfig("models/bert-base-uncased/config.json");
 * const small = new BertModel({ ...base, hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2 })
 *   .materialize(gpu, 42);
 * ```
 */
export async function readBertConfig(path: string): Promise<BertConfig> {
  let obj: unknown;
  try {
    obj = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw e;
    throw new CheckpointError(
      `Cannot read BERT config "${path}": it is not valid JSON (${(e as Error).message})`,
      { file: path, cause: e },
    );
  }
  return bertConfigFromJson(obj, path);
}
