import assert from "node:assert/strict";
import { Rng } from "../../tests/_util/rng.ts";
import { assembleEncoding, truncateLongestFirst } from "./encoding.ts";

const SPECIAL = { cls: 101, sep: 102, pad: 0 };

/** The reference: transformers 2.x removes one token at a time, from B on a tie. */
function truncateOneByOne(a: number, b: number, budget: number): [number, number] {
  for (let remove = a + b - budget; remove > 0; remove--) {
    if (a > b) a--;
    else b--;
  }
  return [a, b];
}

Deno.test("truncateLongestFirst() cuts the longer sequence first and B on a tie (hand-checked)", () => {
  assert.deepEqual(truncateLongestFirst([10, 3], 8), [5, 3]); // only A shrinks
  assert.deepEqual(truncateLongestFirst([3, 10], 8), [3, 5]); // only B shrinks
  assert.deepEqual(truncateLongestFirst([5, 5], 7), [4, 3]); // tie: B, then A, then B
  assert.deepEqual(truncateLongestFirst([4, 3], 3), [2, 1]); // A to 3, then B, then A
  assert.deepEqual(truncateLongestFirst([6, 6], 0), [0, 0]);
  assert.deepEqual(truncateLongestFirst([4, 3], 7), [4, 3]); // fits: nothing removed
  assert.deepEqual(truncateLongestFirst([10], 4), [4, 0]);
  assert.deepEqual(truncateLongestFirst([3], 4), [3, 0]);
});

Deno.test("truncateLongestFirst() equals the one-token-at-a-time loop on 5000 seeded cases", () => {
  const seed = 20240611;
  const rng = new Rng(seed);
  for (let i = 0; i < 5000; i++) {
    const a = Math.floor(rng.next() * 200);
    const b = Math.floor(rng.next() * 200);
    const budget = Math.floor(rng.next() * (a + b + 5));
    assert.deepEqual(
      truncateLongestFirst([a, b], budget),
      truncateOneByOne(a, b, budget),
      `a=${a} b=${b} budget=${budget} seed=${seed}`,
    );
  }
});

Deno.test("assembleEncoding() lays out [CLS] A [SEP] B [SEP] with token types 0 then 1", () => {
  const e = assembleEncoding({ a: [1, 2, 3], b: [4, 5], special: SPECIAL }, {});
  assert.deepEqual(e.inputIds, [101, 1, 2, 3, 102, 4, 5, 102]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1]);
  const single = assembleEncoding({ a: [1, 2], special: SPECIAL }, {});
  assert.deepEqual(single.inputIds, [101, 1, 2, 102]);
  assert.deepEqual(single.tokenTypeIds, [0, 0, 0, 0]);
});

Deno.test("assembleEncoding() keeps an empty B as [CLS] A [SEP] [SEP]", () => {
  const e = assembleEncoding({ a: [1], b: [], special: SPECIAL }, {});
  assert.deepEqual(e.inputIds, [101, 1, 102, 102]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 1]);
});

Deno.test("assembleEncoding() truncates a pair longest first to maxLength", () => {
  // A = 5, B = 3, maxLength 8 leaves 5: A → 4 → 3 (longer), then the tie cuts B → 2.
  const e = assembleEncoding({ a: [1, 2, 3, 4, 5], b: [6, 7, 8], special: SPECIAL }, {
    maxLength: 8,
  });
  assert.deepEqual(e.inputIds, [101, 1, 2, 3, 102, 6, 7, 102]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
});

Deno.test("assembleEncoding() defaults to maxLength 128 and does not pad unless asked", () => {
  const long = Array.from({ length: 300 }, (_, i) => i + 1000);
  const e = assembleEncoding({ a: long, special: SPECIAL }, {});
  assert.equal(e.inputIds.length, 128);
  assert.equal(e.inputIds[126], 1125);
  assert.equal(e.inputIds[127], 102);
  assert.equal(assembleEncoding({ a: [1], special: SPECIAL }, {}).inputIds.length, 3);
});

Deno.test("assembleEncoding() pads with [PAD], mask 0 and token type 0", () => {
  const e = assembleEncoding({ a: [1], b: [2], special: SPECIAL }, {
    maxLength: 8,
    padToMaxLength: true,
  });
  assert.deepEqual(e.inputIds, [101, 1, 102, 2, 102, 0, 0, 0]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 1, 1, 0, 0, 0]);
  assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 0, 0, 0]);
});

Deno.test("assembleEncoding() rejects a maxLength too small for the special tokens", () => {
  assert.throws(() => assembleEncoding({ a: [1], b: [2], special: SPECIAL }, { maxLength: 2 }), {
    name: "RangeError",
    message: /text pair.*"maxLength" is 2.*at least 3/,
  });
  assert.throws(() => assembleEncoding({ a: [1], special: SPECIAL }, { maxLength: 1 }), RangeError);
  assert.throws(
    () => assembleEncoding({ a: [1], special: SPECIAL }, { maxLength: 4.5 }),
    RangeError,
  );
  assert.deepEqual(
    assembleEncoding({ a: [1, 2], b: [3], special: SPECIAL }, { maxLength: 3 }).inputIds,
    [
      101,
      102,
      102,
    ],
  );
});
