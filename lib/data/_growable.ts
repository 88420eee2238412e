/**
 * A typed array that grows by doubling, for building feature sets of unknown size in one pass.
 *
 * @module
 */

/** A growable `Int32Array`, `Uint8Array` or `Float32Array`; `done()` returns a tight copy. */
export class Growable<T extends Int32Array | Uint8Array | Float32Array> {
  #make: (n: number) => T;
  data: T;
  size = 0;
  constructor(make: (n: number) => T, capacity: number) {
    this.#make = make;
    this.data = make(capacity);
  }
  reserve(extra: number): void {
    if (this.size + extra <= this.data.length) return;
    const next = this.#make(Math.max(this.data.length * 2, this.size + extra));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
  push(v: number): void {
    this.reserve(1);
    this.data[this.size++] = v;
  }
  pushAll(values: ArrayLike<number>): void {
    this.reserve(values.length);
    for (let i = 0; i < values.length; i++) this.data[this.size++] = values[i];
  }
  done(): T {
    return this.data.slice(0, this.size) as T;
  }
}

/** A growable `Int32Array`. */
export const int32s = (capacity = 1 << 12): Growable<Int32Array> =>
  new Growable((n) => new Int32Array(n), capacity);

/** A growable `Uint8Array`. */
export const uint8s = (capacity = 1 << 12): Growable<Uint8Array> =>
  new Growable((n) => new Uint8Array(n), capacity);
