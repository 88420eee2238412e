/**
 * `gatherInto`, the row gather, and `scatterAddRows`, its backward: the dispatch chain of the
 * deterministic sort-based scatter-add of `kernels/scatter_add.ts`, shared by the backward of
 * `embedding` and `gatherRows`.
 *
 * @module
 */

import { ceilDiv } from "../../kernels/kernel.ts";
import { wordFor } from "../../kernels/copy_word.ts";
import { gatherRowsKernel, gatherRowsVec4 } from "../../kernels/embedding.ts";
import {
  exclusiveScan,
  RADIX_BITS,
  radixHistogram,
  radixInit,
  radixPasses,
  radixScatter,
  segmentPartial,
  segmentPartialVec4,
  segmentStarts,
  segmentSum,
  segmentSumVec4,
  SORT_BLOCK,
} from "../../kernels/scatter_add.ts";
import { empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import type { FaultSite } from "../gpu/faults.ts";

/**
 * Fills `out` (`[M, D]` words) with rows `index[m]` of `table` (`rows` rows of `D` words),
 * indices clamped to `[0, rows)`; the first index outside is reported as `site` describes it
 * (`lib/gpu/faults.ts`).
 */
export function gatherInto(
  { table, index, out }: { table: Tensor; index: Tensor; out: Tensor },
  { rows, site }: { rows: number; site: Omit<FaultSite, "shape" | "kind" | "limit"> },
): void {
  const d = rows > 0 ? table.size / rows : 0;
  const { width } = wordFor(d);
  const siteId = table.gpu.recorder.faults.site({
    ...site,
    shape: index.shape,
    kind: "index",
    limit: rows,
  });
  dispatch(width === 4 ? gatherRowsVec4 : gatherRowsKernel, { table, index, out }, {
    n: out.size / width,
    d: d / width,
    rows,
    site: siteId,
  });
}

/**
 * `out[r, :] = Σ_{m : index[m] = r} src[m, :]` in ascending m, as a new `[rows, D]` tensor
 * reshaped to `shape`; `src` holds `index.size` rows of `D` values. Indices are clamped to
 * `[0, rows)`; row `pad` (when ≥ 0) gets zero. Bitwise deterministic.
 */
export function scatterAddRows(
  src: Tensor,
  index: Tensor,
  shape: readonly number[],
  pad = -1,
): Tensor {
  const gpu = src.gpu;
  const m = index.size;
  const rows = shape[0];
  const d = rows > 0 ? shape.reduce((p, x) => p * x, 1) / rows : 0;
  let keys = empty(gpu, [m], "i32"), vals = empty(gpu, [m], "i32");
  dispatch(radixInit, { index, keys, vals }, { n: m, rows });
  const passes = radixPasses(rows);
  if (passes > 0 && m > 1) {
    const blocks = ceilDiv(m, SORT_BLOCK);
    const counts = empty(gpu, [256 * blocks], "i32");
    const offsets = empty(gpu, [256 * blocks], "i32");
    let keysOut = empty(gpu, [m], "i32"), valsOut = empty(gpu, [m], "i32");
    for (let p = 0; p < passes; p++) {
      const shift = p * RADIX_BITS;
      dispatch(radixHistogram, { keys, counts }, { n: m, shift, blocks });
      dispatch(exclusiveScan, { counts, offsets }, { len: 256 * blocks });
      dispatch(radixScatter, { keys, vals, offsets, keys_out: keysOut, vals_out: valsOut }, {
        n: m,
        shift,
        blocks,
      });
      [keys, keysOut] = [keysOut, keys];
      [vals, valsOut] = [valsOut, vals];
    }
  }
  const starts = empty(gpu, [rows + 1], "i32");
  dispatch(segmentStarts, { keys, starts }, { n: m, rows });
  const partial = empty(gpu, [m, d]);
  const out = empty(gpu, shape);
  const { width } = wordFor(d);
  const dw = d / width;
  dispatch(
    width === 4 ? segmentPartialVec4 : segmentPartial,
    { keys, vals, starts, src, partial },
    {
      n: m,
      d: dw,
    },
  );
  dispatch(width === 4 ? segmentSumVec4 : segmentSum, { vals, starts, src, partial, out }, {
    rows,
    d: dw,
    pad,
  });
  return out;
}
