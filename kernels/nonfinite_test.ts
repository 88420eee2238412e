import assert from "node:assert/strict";
import { fromArray } from "../lib/autograd/tensor.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { Rng } from "../tests/_util/rng.ts";
import { MARK_WORDS, noteNonFinite, noteNonFiniteRef } from "./nonfinite.ts";

for (const n of [1, 1001]) {
  for (const bad of [NaN, Infinity, -Infinity, null]) {
    gpuTest(`note_nonfinite matches the float64 reference at n=${n} with ${bad}`, async (gpu) => {
      const rng = new Rng(n + 7);
      const x = rng.array(n, -1e30, 1e30).map(Math.fround);
      const at = rng.int(n);
      if (bad !== null) x[at] = bad;
      const mark = fromArray(gpu, new Int32Array(MARK_WORDS), [MARK_WORDS], { dtype: "i32" });
      const record = { step: 37, kind: 2, tasks: 5 };
      // Noted twice: the second call only counts, the first record stays.
      for (let k = 0; k < 2; k++) {
        dispatch(noteNonFinite, { x: fromArray(gpu, x, [n]), mark }, { n, ...record });
      }
      let want = new Array(MARK_WORDS).fill(0);
      for (let k = 0; k < 2; k++) want = noteNonFiniteRef(want, x, record);
      const got = [...new Uint32Array((await mark.read()).buffer)];
      assert.deepEqual(got, want);
    });
  }
}
