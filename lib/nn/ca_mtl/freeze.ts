/**
 * `freezeEncoderLayers`: the released `--freeze_encoder_layers START-END` rule (docs/model.md
 * §11.1), applied to the encoder's parameters (names relative to `bert.`):
 *
 * 1. a name starting with `encoder.layer` has its layer index read from its last `.<digits>.`
 *    group; it is frozen iff START ≤ index ≤ END and it contains none of
 *    `random_weight_matrix`, `film.gb_weights`, `ln_weight_modulation.gb_weights`, `adapter`;
 * 2. otherwise a name starting with `embedding` is frozen;
 * 3. everything else (task embedding, task transformation, alignment, pooler, the large
 *    model's `encoder.adapter_layer.*`, the heads) stays trainable.
 *
 * Works on the plain BERT baseline too (docs/model.md §7.4, §11.1).
 *
 * @module
 */

import type { Module } from "../module.ts";

const KEEP_TRAINABLE = [
  "random_weight_matrix",
  "film.gb_weights",
  "ln_weight_modulation.gb_weights",
  "adapter",
];

/** A parsed `START-END` range, inclusive. */
export interface LayerRange {
  start: number;
  end: number;
}

/**
 * Parses `"a-b"` against a model of `layers` layers.
 *
 * @throws {RangeError} when the text is not `START-END` or the range is outside 0..layers−1
 */
export function parseLayerRange(text: string, layers: number): LayerRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (!m) {
    throw new RangeError(
      `Cannot parse --freeze_encoder_layers "${text}": expected START-END, e.g. 0-4`,
    );
  }
  const start = Number(m[1]), end = Number(m[2]);
  if (start > end || end >= layers) {
    throw new RangeError(
      `Cannot freeze layers ${start}-${end}: the encoder has ${layers} layers (0-${layers - 1})`,
    );
  }
  return { start, end };
}

/** The layer a parameter name belongs to, or null when it is not under `encoder.layer`. */
export function layerIndexOf(name: string): number | null {
  if (!name.startsWith("encoder.layer")) return null;
  const groups = [...name.matchAll(/\.(\d+)\./g)];
  return groups.length ? Number(groups[groups.length - 1][1]) : null;
}

/** Whether the rule freezes the encoder parameter `name` for `range`. */
export function isFrozen(name: string, range: LayerRange): boolean {
  const layer = layerIndexOf(name);
  if (layer !== null) {
    return layer >= range.start && layer <= range.end &&
      !KEEP_TRAINABLE.some((s) => name.includes(s));
  }
  return name.startsWith("embedding");
}

/**
 * Freezes the encoder parameters the released `--freeze_encoder_layers START-END` rule selects
 * (sets `trainable = false`): every parameter of encoder layers START to END (inclusive) except
 * CA-MTL's task-conditioned ones (`random_weight_matrix`, the FiLM and layer-norm modulation
 * generators, adapters), and the embeddings. The task embedding, alignment, pooler and heads
 * stay trainable. Works on the plain BERT baseline too.
 *
 * @param encoder the model's `bert` module (parameter names relative to `bert.`)
 * @param text the range, `"START-END"`, e.g. `"0-4"`
 * @param layers the encoder's layer count, for range checking
 * @returns the names of the parameters it froze
 * @throws {RangeError} when `text` is not `START-END` or the range is outside 0..layers−1
 * @example Freeze the embeddings and the lower five layers of CA-MTL-base
 * ```ts ignore
 * const layers = model.config.bert.numHiddenLayers;
 * const { frozenNames } = freezeEncoderLayers(model.bert, "0-4", layers);
 * console.log(frozenNames.length, model.countParameters());
 * ```
 */
export function freezeEncoderLayers(
  encoder: Module,
  text: string,
  layers: number,
): { frozenNames: string[] } {
  const range = parseLayerRange(text, layers);
  const frozenNames: string[] = [];
  for (const [name, p] of encoder.namedParameters()) {
    if (isFrozen(name, range)) {
      p.trainable = false;
      frozenNames.push(name);
    }
  }
  return { frozenNames };
}
