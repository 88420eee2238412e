/**
 * Device-side fault flags: how a kernel that reads indices or targets made on the GPU reports a
 * bad one (an id outside its table, a label outside its classes, a non-finite regression
 * target) without adding a wait to the step.
 *
 * Kernels that check declare the binding `fault` (`FAULT_BINDING` in `kernels/fault.ts`, four atomic u32 words) and
 * a `site` uniform; the recorder binds its one fault buffer to every such dispatch. The first
 * invocation that finds a bad value writes `[count, site, value bits, flat index]`; later ones
 * only count. The buffer rides along with every readback the program already does
 * (`Recorder.readMany` copies its 16 bytes into the same staging buffer), so in the normal path
 * a check costs one untaken branch per element and 16 bytes per readback, and a bad value
 * surfaces as an error at the next read, naming the op, the tensor, the value, its position and
 * the limit. Host code that builds batches checks them before upload with the same message
 * (`outsideMessage`), which is where most bad input is caught; this flag covers tensors that
 * only ever existed on the GPU.
 *
 * @module
 */

import { FAULT_BINDING, FAULT_BYTES } from "../../kernels/fault.ts";

export { FAULT_BINDING, FAULT_BYTES };

/** What a dispatch checks, registered before it is recorded. */
export interface FaultSite {
  /** The op, as its errors name it, e.g. `run "embedding" on` (followed by the tensor). */
  action: string;
  /** The checked tensor's name, e.g. `ids`. */
  tensor: string;
  /** Its shape, to turn a flat index into a position. */
  shape: readonly number[];
  /** `index`: an i32 that must lie in `[0, limit)`; `finite`: an f32 that must be finite. */
  kind: "index" | "finite";
  /** The exclusive upper bound of an index. */
  limit?: number;
  /** What the bound is, e.g. `rows of "weight"`. */
  limitName?: string;
}

/** `[3, 17]` for flat index 71 of shape `[B, 18]`. */
export function positionOf(flat: number, shape: readonly number[]): string {
  const out: number[] = [];
  let rest = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = Math.max(1, shape[i]);
    out.unshift(i === 0 ? rest : rest % d);
    rest = Math.floor(rest / d);
  }
  return `[${(out.length ? out : [flat]).join(", ")}]`;
}

/**
 * The one wording of an out-of-range value, host- or device-detected:
 * `Cannot embed input_ids: value 40000 at [3, 17] is outside [0, 30522) (vocab_size)`.
 */
export function outsideMessage(
  what: { action: string; tensor: string; limitName: string },
  bad: { value: number; position: string; limit: number },
): string {
  return `Cannot ${what.action} ${what.tensor}: value ${bad.value} at ${bad.position} is ` +
    `outside [0, ${bad.limit}) (${what.limitName})`;
}

/** Most sites kept for naming faults; past this the table starts again (ids keep growing). */
const MAX_SITES = 4096;

/** The fault buffer of one device and the table of what each site checks. */
export class DeviceFaults {
  readonly buffer: GPUBuffer;
  readonly #device: GPUDevice;
  readonly #ids = new Map<string, number>();
  readonly #sites = new Map<number, FaultSite>();
  #next = 1;

  constructor(device: GPUDevice) {
    this.#device = device;
    this.buffer = device.createBuffer({
      label: "fault_flags",
      size: FAULT_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  /**
   * The id a dispatch passes as its `site` uniform. Equal sites share an id, so a training loop
   * registers a handful of sites, not one per step.
   */
  site(site: FaultSite): number {
    const key = JSON.stringify(site);
    let id = this.#ids.get(key);
    if (id === undefined) {
      if (this.#sites.size >= MAX_SITES) {
        this.#ids.clear();
        this.#sites.clear();
      }
      id = this.#next++;
      this.#ids.set(key, id);
      this.#sites.set(id, site);
    }
    return id;
  }

  /**
   * Checks the four words read back from the fault buffer; clears the buffer and throws when a
   * kernel recorded a fault.
   *
   * @throws {RangeError} naming the op, the tensor, the value, its position and the limit
   */
  check(words: Uint32Array): void {
    if (words[0] === 0) return;
    const [count, id, bits, at] = words;
    this.#device.queue.writeBuffer(this.buffer, 0, new Uint32Array(4));
    const site = this.#sites.get(id);
    const more = count > 1 ? ` (${count} bad values in all)` : "";
    if (!site) {
      throw new RangeError(
        `Cannot trust the last GPU results: a kernel found a bad index or value at flat ` +
          `position ${at}${more}`,
      );
    }
    const position = positionOf(at, site.shape);
    if (site.kind === "finite") {
      const value = new Float32Array(Uint32Array.of(bits).buffer)[0];
      throw new RangeError(
        `Cannot ${site.action} ${site.tensor}: value ${value} at ${position} is not finite${more}`,
      );
    }
    const value = new Int32Array(Uint32Array.of(bits).buffer)[0];
    throw new RangeError(
      outsideMessage(
        { action: site.action, tensor: site.tensor, limitName: site.limitName ?? "limit" },
        { value, position, limit: site.limit ?? 0 },
      ) + more,
    );
  }
}
