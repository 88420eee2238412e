/**
 * A restricted pickle virtual machine (protocols 2 to 5, binary opcodes only). It can build
 * only plain data (None, bool, int, float, str, bytes, tuple, list, dict, set) plus whatever
 * the caller's hooks return for `GLOBAL`, persistent ids, `REDUCE` and `BUILD`; it never
 * imports or calls anything by name itself. Opcode reference: CPython `Lib/pickletools.py`.
 *
 * Python values map to: None → null, int → number (bigint past 2^53), tuple → frozen array,
 * list → array, dict → Map, set → Set, bytes → Uint8Array.
 *
 * @module
 */

import { CheckpointError } from "./errors.ts";

/** The caller's policy for everything that is not plain data. */
export interface PickleHooks {
  /** Resolve `module.name`; throw (a CheckpointError) for anything not allowed. */
  findGlobal(module: string, name: string): unknown;
  /** Resolve a persistent id (`BINPERSID`). */
  persistentLoad(pid: unknown): unknown;
  /** Apply `callable(...args)` (`REDUCE`, `NEWOBJ`). */
  call(callable: unknown, args: readonly unknown[]): unknown;
  /** Apply `obj.__setstate__(state)` (`BUILD`); returns the object to keep on the stack. */
  build(obj: unknown, state: unknown): unknown;
}

/** Is `v` a Python tuple as this VM builds it (a frozen array)? */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** A short description of a Python value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (isTuple(v)) return `tuple of ${v.length}`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v instanceof Map) return `dict of ${v.size}`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "object") return v.constructor?.name ?? "object";
  return `${typeof v} ${String(v)}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/**
 * Run one pickle from `start` to its `STOP` opcode.
 *
 * @returns The unpickled value and the offset just after `STOP`.
 * @throws {CheckpointError} On unknown or malformed opcodes, truncation, or anything the
 * hooks refuse.
 */
export function unpickle(
  bytes: Uint8Array,
  hooks: PickleHooks,
  where: { path: string; start?: number },
): { value: unknown; end: number } {
  const { path } = where;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = where.start ?? 0;
  let opPos = pos;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (state: string): never => {
    throw new CheckpointError(
      `Cannot unpickle "${path}": ${state} (opcode at byte ${opPos})`,
      { file: path },
    );
  };
  const need = (n: number) => {
    if (n > bytes.length - pos) fail(`data ends inside an opcode (needs ${n} more bytes)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), pos += 2, view.getUint16(pos - 2, true));
  const u32 = () => (need(4), pos += 4, view.getUint32(pos - 4, true));
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the pickle size`);
    return Number(v);
  };
  const take = (n: number) => (need(n), pos += n, bytes.subarray(pos - n, pos));
  const text = (n: number) => {
    const b = take(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail("string is not valid UTF-8");
    }
  };
  const line = () => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail("line does not end");
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const floor = () => marks.length ? marks[marks.length - 1] : 0;
  const pop = () => stack.length > floor() ? stack.pop() : fail("stack underflow");
  const top = () => stack.length > floor() ? stack[stack.length - 1] : fail("stack underflow");
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) return fail("no MARK on the stack");
    return stack.splice(m);
  };
  const long = (n: number) => {
    const b = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail(`cannot set items on ${describe(target)}`);
    if (items.length % 2) fail("odd number of items for SETITEMS");
    for (let i = 0; i < items.length; i += 2) {
      (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
    }
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || isTuple(target)) fail(`cannot append to ${describe(target)}`);
    for (const x of items) (target as unknown[]).push(x); // no spread: items may be huge
  };
  const memoGet = (i: number) => memo.has(i) ? memo.get(i) : fail(`memo slot ${i} is empty`);

  while (true) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`pickle protocol ${v} is not supported`);
        break;
      }
      case 0x95: // FRAME: a length hint only
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) {
          fail(`STOP with ${stack.length} items on the stack`);
        }
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail("negative LONG4 length");
        stack.push(long(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`cannot add items to ${describe(s)}`);
        for (const x of items) (s as Set<unknown>).add(x);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x61: { // APPEND
        const x = pop();
        append(top(), [x]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(hooks.findGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        stack.push(hooks.findGlobal(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        stack.push(hooks.persistentLoad(line()));
        break;
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const args = pop(), callable = pop();
        if (!isTuple(args)) fail(`call arguments are a ${describe(args)}, not a tuple`);
        stack.push(hooks.call(callable, args as readonly unknown[]));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        stack.push(hooks.build(pop(), state));
        break;
      }
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, "0")} is not supported`);
    }
  }
}
