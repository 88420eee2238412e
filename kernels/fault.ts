/**
 * The WGSL side of the device's fault flags (`lib/gpu/faults.ts`): the binding a checking kernel
 * declares and the function that records the first bad value it finds.
 *
 * @module
 */

/** Name of the storage binding a checking kernel declares (`array<atomic<u32>>`, 4 words). */
export const FAULT_BINDING = "fault";

/** Bytes of the fault buffer: `[count, site, value bits, flat index]`. */
export const FAULT_BYTES = 16;

/** The binding declaration of `fault`, for a kernel's `bindings`. */
export const FAULT_SPEC = { access: "read_write", type: "atomic<u32>" } as const;

/**
 * `report_fault(site, value_bits, at)`: counts a bad value and, for the first one since the
 * buffer was last cleared, records its site, bits and flat index. Needs the `fault` binding.
 */
export const REPORT_FAULT = /* wgsl */ `
fn report_fault(site: u32, value_bits: u32, at: u32) {
  if (atomicAdd(&fault[0], 1u) == 0u) {
    atomicStore(&fault[1], site);
    atomicStore(&fault[2], value_bits);
    atomicStore(&fault[3], at);
  }
}
`;
