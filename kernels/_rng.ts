/**
 * Counter-based random numbers for kernels: a hash of (counter, seed, stream), so that any
 * element's random value is computed where it is needed, in any order, and recomputed later
 * (dropout's backward) instead of stored.
 *
 * The hash is pcg3d of Jarzynski and Olano, "Hash Functions for GPU Rendering", JCGT 9(3), 2020:
 * one LCG step per lane, two rounds of lanes multiplying into each other around an xorshift.
 * It needs only 32-bit integer multiplies, which WGSL has (Philox needs a 64-bit product).
 *
 * @module
 */

/** WGSL `pcg3d(v)` and `uniform24(i, seed, stream)`: a uniform integer in [0, 2²⁴). */
export const HASH_RNG = /* wgsl */ `
fn pcg3d(v0: vec3u) -> vec3u {
  var v = v0 * 1664525u + 1013904223u;
  v.x += v.y * v.z;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v ^= v >> vec3u(16u);
  v.x += v.y * v.z;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  return v;
}

fn uniform24(i: u32, seed: u32, stream: u32) -> u32 {
  return pcg3d(vec3u(i, seed, stream)).x >> 8u;
}
`;

/** The same pcg3d on the CPU, with 32-bit wrap-around arithmetic. */
export function pcg3dRef(x0: number, y0: number, z0: number): [number, number, number] {
  const lcg = (v: number) => (Math.imul(v, 1664525) + 1013904223) >>> 0;
  let x = lcg(x0), y = lcg(y0), z = lcg(z0);
  x = (x + Math.imul(y, z)) >>> 0;
  y = (y + Math.imul(z, x)) >>> 0;
  z = (z + Math.imul(x, y)) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  y = (y ^ (y >>> 16)) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  x = (x + Math.imul(y, z)) >>> 0;
  y = (y + Math.imul(z, x)) >>> 0;
  z = (z + Math.imul(x, y)) >>> 0;
  return [x, y, z];
}

/** The CPU twin of WGSL `uniform24`. */
export function uniform24Ref(i: number, seed: number, stream: number): number {
  return pcg3dRef(i >>> 0, seed >>> 0, stream >>> 0)[0] >>> 8;
}
