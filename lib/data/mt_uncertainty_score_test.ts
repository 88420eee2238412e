import assert from "node:assert/strict";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import { type CandidateGroup, mtUncertaintyScores, selectTopK } from "./mt_uncertainty_score.ts";

/*
 * Worked example across head kinds (docs/model.md §12.10): two candidates per task, T = 8,
 * logits 0 for a uniform row and ±1e4 for a one-hot row (entropy exactly 0), ε = 1e-5.
 *
 *   task     kind   candidate                                       H              N     Ĥ ≈
 *   rte      cls    [0, 0]                                          ln 2           ln 2  1
 *                   [1e4, -1e4]                                     0              ln 2  0
 *   wnut17   token  L = 5: tokens 1, 3 uniform, 2 one-hot           (2/3) ln 13    ln 13 0.6667
 *                   L = 4: tokens 1, 2 one-hot                      0              ln 13 0
 *                   ([CLS], [SEP] and padding uniform: not counted)
 *   squad    span   L = 4: start uniform, end one-hot (padding junk) (ln 4 + 0)/2  ln 4  0.5
 *                   L = 8: start and end uniform                    ln 8           ln 8  1
 *   copa     mc     [0, 0]                                          ln 2           ln 2  1
 *                   [1e4, -1e4]                                     0              ln 2  0
 *
 * H̄: rte 1/2, wnut17 1/3, squad 3/4 = Ĥ_max, copa 1/2. Score Ĥ·H̄_t/Ĥ_max:
 *   rte 2/3, 0; wnut17 8/27, 0; squad 1/2, 1; copa 2/3, 0.
 * Top 4: squad 1 (#5), rte 0 (#0), copa 0 (#6, tied with rte 0, which is earlier), squad 0 (#4).
 */
const T = 8, TAGS = 13;
const ONE_HOT = (size: number, at: number) =>
  Array.from({ length: size }, (_, c) => c === at ? 1e4 : -1e4);
const UNIFORM = (size: number) => new Array(size).fill(0);

/** `[T, C]` token rows: uniform except the one-hot positions given. */
function tokenRows(oneHot: number[]): number[] {
  return Array.from({ length: T }, (_, j) => oneHot.includes(j) ? ONE_HOT(TAGS, 3) : UNIFORM(TAGS))
    .flat();
}

/** `[T, 2]` start/end logits, interleaved, from a start row and an end row of T each. */
function spanRows(start: number[], end: number[]): number[] {
  return start.flatMap((s, j) => [s, end[j]]);
}

const PAD_JUNK = [7, -3, 11, 0.5];
const groups = (): CandidateGroup[] => [
  { task: "rte", numLabels: 2, logits: [...UNIFORM(2), ...ONE_HOT(2, 0)] },
  {
    task: "wnut17",
    kind: "token-classification",
    numLabels: TAGS,
    seqLen: T,
    lengths: [5, 4],
    logits: [...tokenRows([2]), ...tokenRows([1, 2])],
  },
  {
    task: "squad",
    kind: "span-extraction",
    numLabels: 2,
    seqLen: T,
    lengths: [4, 8],
    logits: [
      ...spanRows([0, 0, 0, 0, ...PAD_JUNK], [-1e4, -1e4, 1e4, -1e4, ...PAD_JUNK]),
      ...spanRows(UNIFORM(T), UNIFORM(T)),
    ],
  },
  {
    task: "copa",
    kind: "multiple-choice",
    numLabels: 2,
    logits: [...UNIFORM(2), ...ONE_HOT(2, 0)],
  },
];

const EPS = 1e-5;
const q = (h: number, n: number) => h / (n + EPS);
const LN2 = Math.log(2), LN13 = Math.log(13), LN4 = Math.log(4), LN8 = Math.log(8);

Deno.test("mtUncertaintyScores() matches the worked example across head kinds (code score)", () => {
  const r = mtUncertaintyScores(groups());
  assert.deepEqual(r.counts, [2, 2, 2, 2]);
  const entropy = [
    q(LN2, LN2),
    0,
    q((2 / 3) * LN13, LN13),
    0,
    q(LN4 / 2, LN4),
    q(LN8, LN8),
    q(LN2, LN2),
    0,
  ];
  assertAllClose(r.entropy, entropy, { atol: 1e-12, rtol: 1e-12, label: "normalised entropy" });
  const means = [0, 2, 4, 6].map((i) => (entropy[i] + entropy[i + 1]) / 2);
  assertAllClose(r.taskMean, means, { atol: 1e-12, rtol: 1e-12, label: "task means" });
  // About 1/2, 1/3, 3/4, 1/2 (the hand values, ε aside).
  assertAllClose(r.taskMean, [1 / 2, 1 / 3, 3 / 4, 1 / 2], { atol: 1e-4, rtol: 0 });
  assert.equal(r.hMax, r.taskMean[2]);
  const scores = entropy.map((h, i) => h * means[i >> 1] / means[2]);
  assertAllClose(r.scores, scores, { atol: 1e-12, rtol: 1e-12, label: "scores" });
  assertAllClose(r.scores, [2 / 3, 0, 8 / 27, 0, 1 / 2, 1, 2 / 3, 0], { atol: 1e-4, rtol: 0 });
  assert.equal(r.scores[0], r.scores[6]);
  assert.deepEqual(Array.from(selectTopK(r.scores, 4)), [5, 0, 6, 4]);
  assert.equal(r.borrowed, 0);
});

Deno.test("paper form across head kinds: H / (Ĥ_max · N), Ĥ_max the largest mean raw entropy", () => {
  const r = mtUncertaintyScores(groups(), { scoreMode: "paper" });
  // Mean raw H: rte ln2/2, wnut17 ln13/3, squad (ln4/2 + ln8)/2 = 2 ln 2, copa ln2/2.
  assertAllClose(r.taskMean, [LN2 / 2, LN13 / 3, 2 * LN2, LN2 / 2], { atol: 1e-12, rtol: 1e-12 });
  assertAllClose([r.hMax], [2 * LN2], { atol: 1e-12, rtol: 1e-12 });
  const u = 1 / (2 * LN2);
  assertAllClose(r.scores, [u, 0, (2 / 3) * u, 0, u / 2, u, u, 0], { atol: 1e-12, rtol: 1e-12 });
  assertAllClose(r.entropy, [1, 0, 2 / 3, 0, 1 / 2, 1, 1, 0], { atol: 1e-12, rtol: 1e-12 });
});

Deno.test("padding (and a tagger's [CLS] and [SEP]) never change a token or span candidate's score", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647 * 8 - 4;
  const L = 6, C = 5;
  const real = Array.from({ length: L * C }, rand), realSpan = Array.from({ length: L * 2 }, rand);
  const padded = (rows: number[], width: number, Tp: number, junk: number) => [
    ...rows,
    ...Array.from({ length: (Tp - L) * width }, () => junk * rand()),
  ];
  const score = (Tp: number, junk: number, edges = 0) => {
    const tokens = padded(real, C, Tp, junk);
    for (const j of [0, L - 1]) for (let c = 0; c < C; c++) tokens[j * C + c] += edges * c;
    return mtUncertaintyScores([
      {
        task: "wnut17",
        kind: "token-classification",
        numLabels: C,
        seqLen: Tp,
        lengths: [L],
        logits: tokens,
      },
      {
        task: "squad",
        kind: "span-extraction",
        numLabels: 2,
        seqLen: Tp,
        lengths: [L],
        logits: padded(realSpan, 2, Tp, junk),
      },
    ]).entropy;
  };
  const bare = score(L, 0);
  assert.ok(bare[0] > 0.1 && bare[1] > 0.1, `both candidates are uncertain: ${bare}`);
  for (const [Tp, junk] of [[8, 1], [16, 100], [9, -50]]) {
    assert.deepEqual(Array.from(score(Tp, junk)), Array.from(bare), `T = ${Tp}`);
  }
  assert.deepEqual(Array.from(score(L, 0, 9)).slice(0, 1), Array.from(bare).slice(0, 1));
  // Real tokens do count: one more real token changes both.
  const longer = mtUncertaintyScores([{
    task: "squad",
    kind: "span-extraction",
    numLabels: 2,
    seqLen: 8,
    lengths: [L + 1],
    logits: padded(realSpan, 2, 8, 1),
  }]).entropy;
  assert.notEqual(longer[0], bare[1]);
});

Deno.test("token and span groups are refused without lengths or with logits of the wrong shape", () => {
  const token = { task: "wnut17", kind: "token-classification" as const, numLabels: 3 };
  assert.throws(
    () => mtUncertaintyScores([{ ...token, logits: new Array(24).fill(0) }]),
    /"wnut17": a token-classification group needs seqLen and lengths/,
  );
  assert.throws(
    () =>
      mtUncertaintyScores([{
        ...token,
        seqLen: 4,
        lengths: [4, 2],
        logits: new Array(12).fill(0),
      }]),
    /expected \[2, 4, 3\] logits, got 12 values/,
  );
  assert.throws(
    () =>
      mtUncertaintyScores([{ ...token, seqLen: 4, lengths: [5], logits: new Array(12).fill(0) }]),
    /candidate 0 has 5 real tokens, outside \[1, 4\]/,
  );
  assert.throws(
    () =>
      mtUncertaintyScores([{
        task: "squad",
        kind: "span-extraction",
        numLabels: 3,
        seqLen: 2,
        lengths: [2],
        logits: new Array(6).fill(0),
      }]),
    /a span head has 2 outputs, not 3/,
  );
});
