import assert from "node:assert/strict";
import { SeededRng } from "./rng.ts";

Deno.test("SeededRng.state resumes the exact stream in a fresh generator", () => {
  const a = new SeededRng(42, 3);
  for (let i = 0; i < 17; i++) a.next();
  const b = new SeededRng(0);
  b.state = a.state;
  assert.deepEqual(Array.from(b.permutation(50)), Array.from(a.permutation(50)));
  assert.equal(b.state, a.state);
  assert.ok(Number.isInteger(a.state) && a.state >= 0 && a.state <= 0xffffffff);
});

Deno.test("SeededRng.state refuses values that are not a uint32", () => {
  const r = new SeededRng(1);
  for (const bad of [-1, 2 ** 32, 0.5, NaN]) {
    assert.throws(() => r.state = bad, RangeError, String(bad));
  }
});
