// The expected strings are what torch 1.13 prints (`torch._tensor_str._tensor_str(t, indent)`)
// for the same float32 or int32 values.
import assert from "node:assert/strict";
import { displayBundle, formatHtmlTable, formatValues } from "./format.ts";

/** Deterministic values that Python computes identically: ((7919 i mod 2001) − 1000) / 37. */
function gen(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 7919 % 2001) - 1000) / 37 * scale);
}

Deno.test("formatValues pads every value to one width with 4 decimals", () => {
  assert.equal(formatValues([1, 2.5, -3], [3], "f32"), "[ 1.0000,  2.5000, -3.0000]");
  assert.equal(formatValues([3.25], [], "f32"), "3.2500");
  assert.equal(formatValues([], [0, 3], "f32"), "[]");
});

Deno.test("formatValues prints i32 as integers and whole floats with a trailing point", () => {
  assert.equal(formatValues([1, 2, 3, -40], [2, 2], "i32"), "[[  1,   2],\n [  3, -40]]");
  assert.equal(formatValues([0, 0, 0], [3], "f32"), "[0., 0., 0.]");
  assert.equal(formatValues([NaN, 2, -30], [3], "f32"), "[ nan,   2., -30.]");
});

Deno.test("formatValues switches to scientific notation when the magnitudes demand it", () => {
  const f = (v: number[]) => formatValues(Float32Array.from(v), [v.length], "f32");
  assert.equal(f([1e-5, 1, 100]), "[1.0000e-05, 1.0000e+00, 1.0000e+02]"); // below 1e-4
  assert.equal(f([1e9, 2.5]), "[1.0000e+09, 2.5000e+00]"); // above 1e8
  assert.equal(f([1, 100000]), "[1.0000e+00, 1.0000e+05]"); // whole, but five decades apart
});

Deno.test("formatValues writes non-finite values, negative zero and ties as Python does", () => {
  assert.equal(
    formatValues([NaN, Infinity, -Infinity, 1.5], [4], "f32"),
    "[   nan,    inf,   -inf, 1.5000]",
  );
  // 0.03125 and 0.09375 lie exactly halfway: rounded to even, not up.
  assert.equal(
    formatValues([-0, 0.03125, 0.09375, 1.5], [4], "f32"),
    "[-0.0000, 0.0312, 0.0938, 1.5000]",
  );
});

Deno.test("formatValues wraps long rows at 80 columns below the indent", () => {
  assert.equal(
    formatValues(gen(20), [20], "f32", { indent: 7 }),
    "[-27.0270,  24.7568,  22.4595,  20.1622,  17.8649,  15.5676,  13.2703,\n" +
      "         10.9730,   8.6757,   6.3784,   4.0811,   1.7838,  -0.5135,  -2.8108,\n" +
      "         -5.1081,  -7.4054,  -9.7027, -12.0000, -14.2973, -16.5946]",
  );
});

Deno.test("formatValues separates nested blocks with one blank line per extra dimension", () => {
  assert.equal(
    formatValues(gen(16), [2, 2, 2, 2], "f32"),
    "[[[[-27.0270,  24.7568],\n   [ 22.4595,  20.1622]],\n\n" +
      "  [[ 17.8649,  15.5676],\n   [ 13.2703,  10.9730]]],\n\n\n" +
      " [[[  8.6757,   6.3784],\n   [  4.0811,   1.7838]],\n\n" +
      "  [[ -0.5135,  -2.8108],\n   [ -5.1081,  -7.4054]]]]",
  );
});

Deno.test("formatValues summarises past 1000 elements, sizing columns on the shown values", () => {
  const halves = Float32Array.from({ length: 2000 }, (_, i) => i * 0.5);
  assert.equal(
    formatValues(halves, [2000], "f32"),
    "[0.0000e+00, 5.0000e-01, 1.0000e+00,  ..., 9.9850e+02, 9.9900e+02,\n 9.9950e+02]",
  );
  const ints = Int32Array.from({ length: 1200 }, (_, i) => (i * 7919 % 2001) - 1000);
  assert.equal(
    formatValues(ints, [40, 30], "i32"),
    "[[-1000,   916,   831,  ...,   707,   622,   537],\n" +
      " [  452,   367,   282,  ...,   158,    73,   -12],\n" +
      " [  -97,  -182,  -267,  ...,  -391,  -476,  -561],\n" +
      " ...,\n" +
      " [  698,   613,   528,  ...,   404,   319,   234],\n" +
      " [  149,    64,   -21,  ...,  -145,  -230,  -315],\n" +
      " [ -400,  -485,  -570,  ...,  -694,  -779,  -864]]",
  );
});

Deno.test("formatValues honours threshold and edgeItems (torch.set_printoptions)", () => {
  assert.equal(
    formatValues(gen(98, 0.01), [7, 2, 7], "f32", { threshold: 50, edgeItems: 2 }),
    "[[[-0.2703,  0.2476,  ...,  0.1557,  0.1327],\n" +
      "  [ 0.1097,  0.0868,  ..., -0.0051, -0.0281]],\n\n" +
      " [[-0.0511, -0.0741,  ..., -0.1659, -0.1889],\n" +
      "  [-0.2119, -0.2349,  ...,  0.2141,  0.1911]],\n\n" +
      " ...,\n\n" +
      " [[-0.2559,  0.2619,  ...,  0.1700,  0.1470],\n" +
      "  [ 0.1241,  0.1011,  ...,  0.0092, -0.0138]],\n\n" +
      " [[-0.0368, -0.0597,  ..., -0.1516, -0.1746],\n" +
      "  [-0.1976, -0.2205,  ...,  0.2284,  0.2054]]]",
  );
});

Deno.test("formatValues rejects values that do not fill the shape", () => {
  assert.throws(
    () => formatValues([1, 2, 3], [2, 2], "f32"),
    /^TypeError: Cannot format values: got 3, shape \[2, 2\] needs 4$/,
  );
});

Deno.test("formatHtmlTable lays out 1-D and 2-D tensors as rows, summarised like the text", () => {
  const cell = (s: string) => `<td style="text-align:right;font-family:monospace">${s}</td>`;
  assert.equal(
    formatHtmlTable([1, -2.5], [2], "f32"),
    `<table><tr>${cell("1.0000")}${cell("-2.5000")}</tr></table>`,
  );
  const table = formatHtmlTable(
    Float32Array.from({ length: 1600 }, (_, i) => 1000 + i),
    [40, 40],
    "f32",
  )!;
  const rows = table.split("<tr>").slice(1);
  assert.equal(rows.length, 7); // 3 + the ⋮ row + 3
  assert.equal(rows[0].split("<td").length - 1, 7); // 3 + the … column + 3
  assert.match(rows[0], /^<td[^>]*>1000\.<\/td>.*<td[^>]*>…<\/td>.*<td[^>]*>1039\.<\/td><\/tr>$/);
  assert.match(rows[3], /⋮.*⋱.*⋮/);
  assert.match(rows[6], />2599\.<\/td><\/tr><\/table>$/);
  assert.equal(formatHtmlTable(gen(8), [2, 2, 2], "f32"), null);
});

Deno.test("displayBundle gives text for every rank and HTML for 1-D and 2-D", () => {
  const flat = displayBundle("T <x>", [1, 2], [2], "i32");
  assert.equal(flat["text/plain"], "T <x>\n[1, 2]");
  assert.match(flat["text/html"], /^<div><pre style="margin:0">T &lt;x&gt;<\/pre><table>/);
  assert.deepEqual(Object.keys(displayBundle("T", gen(8), [2, 2, 2], "f32")), ["text/plain"]);
});
