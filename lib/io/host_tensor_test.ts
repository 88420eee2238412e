import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { f16BitsToNumber, hostTensorFromFloat32, numel, toFloat32 } from "./host_tensor.ts";

function u16Bytes(bits: number[]): Uint8Array {
  const out = new Uint8Array(bits.length * 2);
  const v = new DataView(out.buffer);
  bits.forEach((b, i) => v.setUint16(2 * i, b, true));
  return out;
}

Deno.test("toFloat32() converts F16 edge values exactly", () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0x0000, 0],
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x7bff, 65504], // largest finite
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x3555, 0.333251953125], // nearest f16 to 1/3
    [0xc100, -2.5],
  ];
  const t = {
    dtype: "F16" as const,
    shape: [cases.length],
    data: u16Bytes(cases.map((c) => c[0])),
  };
  const got = toFloat32(t);
  cases.forEach(([bits, want], i) => {
    ok(Object.is(got[i], want), `0x${bits.toString(16)}: got ${got[i]}, want ${want}`);
  });
  ok(Number.isNaN(f16BitsToNumber(0x7e00)));
  // Every pattern: the lookup table toFloat32 uses agrees with the formula.
  const all = new Uint8Array(65536 * 2);
  for (let b = 0; b < 65536; b++) all.set([b & 0xff, b >> 8], 2 * b);
  const every = toFloat32({ dtype: "F16", shape: [65536], data: all });
  for (let b = 0; b < 65536; b++) {
    const want = f16BitsToNumber(b);
    ok(
      Object.is(every[b], want) || (Number.isNaN(want) && Number.isNaN(every[b])),
      `0x${b.toString(16)}`,
    );
  }
});

Deno.test("toFloat32() converts BF16 edge values exactly", () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0x8000, -0],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
    [0x0001, 2 ** -133], // smallest bf16 subnormal
    [0x007f, 127 * 2 ** -133], // largest subnormal
    [0x7f7f, 255 * 2 ** 120], // largest finite: (2 - 2^-7) · 2^127
    [0x3eab, 0.333984375],
    [0xc020, -2.5],
  ];
  const t = {
    dtype: "BF16" as const,
    shape: [cases.length],
    data: u16Bytes(cases.map((c) => c[0])),
  };
  const got = toFloat32(t);
  cases.forEach(([bits, want], i) => {
    ok(Object.is(got[i], want), `0x${bits.toString(16)}: got ${got[i]}, want ${want}`);
  });
  ok(Number.isNaN(toFloat32({ dtype: "BF16", shape: [1], data: u16Bytes([0x7fc0]) })[0]));
});

Deno.test("toFloat32() reads integer, F64 and BOOL dtypes", () => {
  const i64 = new Uint8Array(16);
  new DataView(i64.buffer).setBigInt64(0, -5n, true);
  new DataView(i64.buffer).setBigInt64(8, 2n ** 40n, true);
  deepEqual(Array.from(toFloat32({ dtype: "I64", shape: [2], data: i64 })), [-5, 2 ** 40]);
  deepEqual(
    Array.from(toFloat32({ dtype: "I8", shape: [2], data: new Uint8Array([0xff, 0x7f]) })),
    [-1, 127],
  );
  const f64 = new Uint8Array(8);
  new DataView(f64.buffer).setFloat64(0, 0.1, true);
  equal(toFloat32({ dtype: "F64", shape: [], data: f64 })[0], Math.fround(0.1));
  deepEqual(
    Array.from(toFloat32({ dtype: "BOOL", shape: [2], data: new Uint8Array([1, 0]) })),
    [1, 0],
  );
});

Deno.test("toFloat32() rejects data whose length does not match the shape", () => {
  throws(
    () => toFloat32({ dtype: "F32", shape: [3], data: new Uint8Array(8) }),
    (e) => e instanceof TypeError && /holds 8 bytes, expected 12/.test(e.message),
  );
});

Deno.test("hostTensorFromFloat32() round-trips through toFloat32()", () => {
  const values = new Float32Array([-0, 1.5, -3e38, 1e-45]);
  const back = toFloat32(hostTensorFromFloat32([2, 2], values));
  values.forEach((v, i) => ok(Object.is(back[i], v)));
  throws(() => hostTensorFromFloat32([3], values), TypeError);
});

Deno.test("numel() multiplies sizes and rejects bad ones", () => {
  equal(numel([]), 1);
  equal(numel([4, 0, 3]), 0);
  throws(() => numel([-1]), RangeError);
  throws(() => numel([2 ** 30, 2 ** 30]), RangeError);
});
