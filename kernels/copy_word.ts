/**
 * The unit that copy kernels (gather, head split/merge, slice, concat) move: one 32-bit word,
 * or four at once (16-byte loads and stores) when every contiguous run they copy is a multiple
 * of 4 words long. Words are `u32`, so f32 and i32 data are copied bit for bit.
 *
 * @module
 */

/** A copy kernel's unit, as a WGSL storage element type. */
export type Word = "u32" | "vec4<u32>";

/** The widest unit that divides runs of `run` contiguous words: vec4 when `run % 4 == 0`. */
export function wordFor(run: number): { word: Word; width: 1 | 4 } {
  return run % 4 === 0 ? { word: "vec4<u32>", width: 4 } : { word: "u32", width: 1 };
}
