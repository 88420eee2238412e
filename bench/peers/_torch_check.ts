/**
 * What the tests that compare `torch_cpu.py` with camtl share: skipping visibly where Debian's
 * `/usr/bin/python3` has no torch (CI), and `torch_cpu.py --check` on a spec of camtl's weights
 * and inputs.
 *
 * @module
 */

import { TORCH_PYTHON } from "./torch.ts";

const SCRIPT = new URL("./torch_cpu.py", import.meta.url).pathname;

async function hasTorch(): Promise<boolean> {
  try {
    const cmd = new Deno.Command(TORCH_PYTHON, { args: ["-c", "import torch"], stderr: "null" });
    return (await cmd.output()).success;
  } catch {
    return false;
  }
}

/** True, after a SKIP line naming the test, when torch is missing. */
export async function skipWithoutTorch(name: string): Promise<boolean> {
  if (await hasTorch()) return false;
  console.warn(`SKIP: "${name}" needs ${TORCH_PYTHON} with torch (Debian python3-torch)`);
  return true;
}

/**
 * Runs `torch_cpu.py --check` on `spec`, written to a temporary file; its JSON answer.
 *
 * @throws {Error} with the script's stderr when it fails.
 */
export async function torchCheck<T>(spec: Record<string, unknown>): Promise<T> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(spec));
    const out = await new Deno.Command(TORCH_PYTHON, { args: [SCRIPT, "--check", file] }).output();
    if (!out.success) {
      throw new Error(`torch_cpu.py --check failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(file);
  }
}
