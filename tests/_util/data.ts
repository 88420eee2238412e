/**
 * Where the shared real data lives: `$CAMTL_DATA`, default `../shared/data` beside the
 * repository. Tests that need it skip with a visible message when it is missing.
 *
 * @module
 */

const DEFAULT = new URL("../../../shared/data", import.meta.url).pathname;

/** The shared data folder, from `CAMTL_DATA` or the default beside the repository. */
export const DATA_DIR: string = Deno.env.get("CAMTL_DATA") ?? DEFAULT;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `DATA_DIR/<sub>` exists; prints a skip message once per missing path otherwise. */
export function hasData(sub = ""): boolean {
  const path = sub ? `${DATA_DIR}/${sub}` : DATA_DIR;
  if (exists(path)) return true;
  if (!warned.has(path)) {
    warned.add(path);
    console.warn(`SKIP: shared data not found at ${path} (set CAMTL_DATA to its folder)`);
  }
  return false;
}
const warned = new Set<string>();

/** `DATA_DIR/<sub>`. */
export function dataPath(sub: string): string {
  return `${DATA_DIR}/${sub}`;
}
