// A small encoder of WebAssembly binary modules: what the JIT needs to write
// the code it compiles at run time, and nothing more (i32 and i64 integer code,
// one imported memory, one imported table, tail calls).
//
// How to drive this:
//   const m = new ModuleBuilder();
//   const sig = m.type([I32, I32], [I32]);
//   m.importMemory('env', 'memory');
//   const f = m.func(sig, [I32], (c) => c.get(0).get(1).op(OP.i32_add));   // params 0, 1; local 2
//   m.exportFunc('add', f);
//   const module = new WebAssembly.Module(m.encode());
// `Code` appends instructions (each method returns the Code, so calls chain);
// `OP` names the opcodes. Function indices count the imported functions first.

export const I32 = 0x7f;
export const I64 = 0x7e;
export type ValType = typeof I32 | typeof I64;

/** Block types: no result, or one i32. */
export const VOID = 0x40;

/** Opcodes (the MVP's names, with `_` for `.`, and the tail calls). */
export const OP = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  br_table: 0x0e,
  return: 0x0f,
  call: 0x10,
  call_indirect: 0x11,
  return_call: 0x12,
  return_call_indirect: 0x13,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i64_load: 0x29,
  i32_load8_u: 0x2d,
  i32_load16_u: 0x2f,
  i64_load8_u: 0x31,
  i64_load16_u: 0x33,
  i64_load32_u: 0x35,
  i32_store: 0x36,
  i64_store: 0x37,
  i32_store8: 0x3a,
  i32_store16: 0x3b,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i64_add: 0x7c,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0,
} as const;

/** The natural alignment (log2) of each memory access opcode. */
const ALIGN: Record<number, number> = {
  [OP.i32_load]: 2, [OP.i64_load]: 3, [OP.i32_load8_u]: 0, [OP.i32_load16_u]: 1, [OP.i64_load8_u]: 0, [OP.i64_load16_u]: 1,
  [OP.i64_load32_u]: 2, [OP.i32_store]: 2, [OP.i64_store]: 3, [OP.i32_store8]: 0, [OP.i32_store16]: 1,
};

function pushU32(out: number[], v: number) {
  v >>>= 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}

function pushName(out: number[], s: string) {
  const bytes = new TextEncoder().encode(s);
  pushU32(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** The instructions of one function body. */
export class Code {
  private buf = new Uint8Array(256);
  private n = 0;

  /** The bytes written so far. */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
  get length(): number {
    return this.n;
  }

  private room(k: number) {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  private put(b: number) {
    if (this.n === this.buf.length) this.room(1);
    this.buf[this.n++] = b;
  }
  private u32(v: number) {
    this.room(5);
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      this.buf[this.n++] = b;
    } while (v);
  }
  private s32(v: number) {
    this.room(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
        this.buf[this.n++] = b;
        return;
      }
      this.buf[this.n++] = b | 0x80;
    }
  }

  op(...opcodes: number[]): this {
    for (const o of opcodes) this.put(o);
    return this;
  }
  i32(v: number): this {
    this.put(OP.i32_const);
    this.s32(v);
    return this;
  }
  /** An i64 constant from its two 32-bit halves (no BigInt: this is on the JIT's hot path). */
  i64(lo: number, hi = 0): this {
    this.put(OP.i64_const);
    this.room(10);
    // Signed LEB128 of hi:lo, 7 bits at a time.
    lo >>>= 0;
    hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>= 7;
      const done = (hi === 0 && lo === 0 && !(b & 0x40)) || (hi === -1 && lo === 0xffffffff && b & 0x40);
      this.buf[this.n++] = done ? b : b | 0x80;
      if (done) return this;
    }
  }
  get(local: number): this {
    this.put(OP.local_get);
    this.u32(local);
    return this;
  }
  set(local: number): this {
    this.put(OP.local_set);
    this.u32(local);
    return this;
  }
  tee(local: number): this {
    this.put(OP.local_tee);
    this.u32(local);
    return this;
  }
  /** A load or store with a constant byte offset. */
  mem(opcode: number, offset = 0): this {
    if (!(opcode in ALIGN)) throw new Error(`not a memory access opcode: ${opcode}`);
    if (offset < 0 || offset > 0xffffffff) throw new RangeError(`memory offset ${offset} out of range`);
    this.put(opcode);
    this.put(ALIGN[opcode]);
    this.u32(offset);
    return this;
  }
  /** block, loop or if, with a block type (VOID or I32). */
  begin(opcode: number, type = VOID): this {
    this.put(opcode);
    this.put(type);
    return this;
  }
  end(): this {
    this.put(OP.end);
    return this;
  }
  br(depth: number): this {
    this.put(OP.br);
    this.u32(depth);
    return this;
  }
  brIf(depth: number): this {
    this.put(OP.br_if);
    this.u32(depth);
    return this;
  }
  brTable(depths: number[], otherwise: number): this {
    this.put(OP.br_table);
    this.u32(depths.length);
    for (const d of depths) this.u32(d);
    this.u32(otherwise);
    return this;
  }
  call(func: number): this {
    this.put(OP.call);
    this.u32(func);
    return this;
  }
  returnCall(func: number): this {
    this.put(OP.return_call);
    this.u32(func);
    return this;
  }
  returnCallIndirect(type: number, table = 0): this {
    this.put(OP.return_call_indirect);
    this.u32(type);
    this.u32(table);
    return this;
  }
  append(other: Code): this {
    this.room(other.n);
    this.buf.set(other.buf.subarray(0, other.n), this.n);
    this.n += other.n;
    return this;
  }
}

interface Func {
  type: number;
  locals: ValType[];
  code: Code;
}

/** A module being written: types, imports, functions, exports. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly imports: number[][] = [];
  private importedFuncs = 0;
  private readonly funcs: Func[] = [];
  private readonly exports: number[][] = [];

  /** The index of the function type (params) -> (results), added once. */
  type(params: ValType[], results: ValType[]): number {
    const key = params.join(',') + '>' + results.join(',');
    const known = this.types.indexOf(key);
    if (known >= 0) return known;
    const b = [0x60];
    pushU32(b, params.length);
    b.push(...params);
    pushU32(b, results.length);
    b.push(...results);
    this.types.push(key);
    this.typeBytes.push(b);
    return this.types.length - 1;
  }

  /** Imports a function; imports come before every function defined here. */
  importFunc(module: string, name: string, type: number): number {
    if (this.funcs.length) throw new Error('functions must be imported before any is defined');
    const b: number[] = [];
    pushName(b, module);
    pushName(b, name);
    b.push(0x00);
    pushU32(b, type);
    this.imports.push(b);
    return this.importedFuncs++;
  }

  importMemory(module: string, name: string, minPages = 1) {
    const b: number[] = [];
    pushName(b, module);
    pushName(b, name);
    b.push(0x02, 0x00);
    pushU32(b, minPages);
    this.imports.push(b);
  }

  /** Imports a table of function references (table 0). */
  importTable(module: string, name: string, min = 1) {
    const b: number[] = [];
    pushName(b, module);
    pushName(b, name);
    b.push(0x01, 0x70, 0x00);
    pushU32(b, min);
    this.imports.push(b);
  }

  /** Defines a function; `locals` are its locals after its params. Returns its index. */
  func(type: number, locals: ValType[], write: (code: Code) => void): number {
    const code = new Code();
    write(code);
    this.funcs.push({ type, locals, code });
    return this.importedFuncs + this.funcs.length - 1;
  }

  /** Defines a function whose body is written later (for functions that call each other). */
  declare(type: number, locals: ValType[]): { index: number; code: Code } {
    const code = new Code();
    this.funcs.push({ type, locals, code });
    return { index: this.importedFuncs + this.funcs.length - 1, code };
  }

  exportFunc(name: string, func: number) {
    const b: number[] = [];
    pushName(b, name);
    b.push(0x00);
    pushU32(b, func);
    this.exports.push(b);
  }

  encode(): Uint8Array {
    const parts: Array<number[] | Uint8Array> = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
    const section = (id: number, items: Array<number[] | Uint8Array>, count = items.length) => {
      if (!items.length) return;
      const head: number[] = [];
      pushU32(head, count);
      const size = items.reduce((n, it) => n + it.length, head.length);
      const h: number[] = [id];
      pushU32(h, size);
      parts.push(h, head, ...items);
    };
    section(1, this.typeBytes);
    section(2, this.imports);
    section(3, this.funcs.map((f) => { const b: number[] = []; pushU32(b, f.type); return b; }));
    section(7, this.exports);
    section(10, this.funcs.flatMap((f) => {
      const head: number[] = [];
      // Locals in runs of one type.
      const runs: Array<[number, ValType]> = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      pushU32(head, runs.length);
      for (const [n, t] of runs) {
        pushU32(head, n);
        head.push(t);
      }
      const size: number[] = [];
      pushU32(size, head.length + f.code.length + 1);
      return [[...size, ...head], f.code.bytes, [OP.end]];
    }), this.funcs.length); // a function is written in three pieces
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
