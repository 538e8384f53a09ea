// Turns a region of guest code (src/jit/region.ts) into a WebAssembly module:
// the instruction set's own statements (src/isa/semantics.ts), compiled with
// the instruction's operands as constants (src/jit/statements.ts).
//
// How to drive this:
//   const bytes = compileRegion(region, cpu.variant, flat);
//   const module = new WebAssembly.Module(bytes);       // imports: see REGION_IMPORTS
//   instance.exports.fast                               // the region's entry, for the JIT's table
//
// A region module has two functions of the same signature (REGION_PARAMS):
// `fast` runs whole blocks, `careful` single instructions. A run of compiled
// code is a run of the interpreter's loop cut short: it executes instructions
// only while the interpreter would (the cycle count before each is below
// `limit`, the budget or the first boundary at which an interrupt may be
// seen), and leaves a block's exits as the interpreter's run would leave them.
// `fast` enters a block only when every boundary inside it comes before
// `limit`; else `careful` takes the instructions one at a time. Before a
// block or an instruction runs, its bytes are compared with those it was
// compiled from (a write since, by the guest, the host or a device, makes it
// stale: EXIT_JIT_STALE); a block that writes into its own later instructions
// ends after the write. Device reads are left to the interpreter (the run
// stops before the instruction: EXIT_JIT_LEAVE), device writes are queued as
// the interpreter queues them (EXIT_DEVICE_WRITE after the instruction). Code
// that goes on in another page goes there through the table, by the page's
// entry in JIT_PAGES; code that leaves compiled code gives the run back
// (EXIT_JIT_LEAVE, PC where the interpreter goes on).

import * as L from '../core/layout.js';
import type { CpuVariant } from '../isa/opcodes.js';
import { Emitter, body, P_IN, P_OUT } from '../isa/semantics.js';
import { Code, I32, ModuleBuilder, OP, type ValType } from './wasm.js';
import { parseExpression, parseStatements, StatementCompiler, type Expr, type Stmt, type StatementContext } from './statements.js';
import type { Block, Instruction, Region } from './region.js';

/** vm, pc, a, x, y, s, p (packed), cycles and instructions of the run so far, limit. */
export const REGION_PARAMS = ['vm', 'pc', 'a', 'x', 'y', 's', 'p', 'cycles', 'instructions', 'limit'] as const;
/** Imports of a region module: env.memory, env.table, rt.exit (src/jit/runtime.ts), and core.* helpers. */
export const REGION_IMPORTS = { memory: 'env.memory', table: 'env.table', exit: 'rt.exit' } as const;

const LOCALS = ['nf', 'zf', 'cf', 'vf', 'ea', 'base', 'v', 'w', 'old', 't', 'lo', 'hi', 'q', 'reason', 'stopOnSelfLoop', 'stepped'] as const;
const LOCAL_INDEX = new Map<string, number>([...REGION_PARAMS, ...LOCALS].map((n, i) => [n, i]));
const VM = 0;
/** What an exit needs in its locals. */
const EXIT_NAMES = ['pc', 'a', 'x', 'y', 's', 'p', 'nf', 'zf', 'cf', 'vf', 'cycles', 'instructions', 'reason'];

/** The core's helpers compiled code may call, with their signatures. */
const HELPERS: Record<string, { params: number; result: boolean }> = {
  adcDecimalNmos: { params: 3, result: true },
  adcDecimalCmos: { params: 3, result: true },
  sbcDecimalNmos: { params: 3, result: true },
  sbcDecimalCmos: { params: 3, result: true },
  arr: { params: 3, result: true },
  markIFlag: { params: 3, result: false },
  ioWrite: { params: 3, result: false },
};

/**
 * The bus as compiled code sees it: operands are constants (`op1`, `op2`: the
 * block's bytes are checked before it runs), a read of a device page leaves
 * the instruction to the interpreter, a write into the block's own later code
 * ends the block.
 */
class JitEmitter extends Emitter {
  private next = 1;

  override fetch(dst: string) {
    this.emit(`${dst} = op${this.next}; pc = (opPc + ${this.next + 1}) & 0xFFFF;`);
    this.next++;
  }

  override read(dst: string, addr: string) {
    if (!this.flat) this.emit(`if (load<u8>(vm + PAGE_ATTRS + ((${addr}) >> 8)) & ATTR_READ_EXIT) leaveBefore();`);
    this.emit(`${dst} = load<u8>(vm + (${addr}));`);
  }

  private ramWrite(addr: string, value: string) {
    this.emit(`store<u8>(vm + (${addr}), ${value}); store<u8>(vm + DIRTY_PAGES + ((${addr}) >> 8), 1); codeWritten(${addr});`);
  }

  override write(addr: string, value: string) {
    if (this.flat) return this.ramWrite(addr, value);
    this.emit(`q = load<u8>(vm + PAGE_ATTRS + ((${addr}) >> 8));`, 'if (!(q & (ATTR_WRITE_EXIT | ATTR_WRITE_IGNORE))) {');
    this.ramWrite(addr, value);
    this.emit(`} else if (q & ATTR_WRITE_EXIT) { ioWrite(vm, ${addr}, ${value}); reason = EXIT_DEVICE_WRITE; }`);
  }

  override rmwWrite(addr: string, old: string, value: string) {
    // The NMOS chip writes the old value back first: a device sees both writes.
    if (!this.cmos && !this.flat) this.emit(`if (load<u8>(vm + PAGE_ATTRS + ((${addr}) >> 8)) & ATTR_WRITE_EXIT) ioWrite(vm, ${addr}, ${old});`);
    if (this.cmos || this.flat) return super.rmwWrite(addr, old, value);
    this.write(addr, value);
  }

  override push(value: string) {
    this.emit(`store<u8>(vm + 0x100 + s, ${value}); store<u8>(vm + DIRTY_PAGES + 1, 1); stackWritten(); s = (s - 1) & 0xFF;`);
  }
}

/** An opcode's statements as compiled code runs them (its operands named op1, op2), and the helpers they call. */
interface OpcodeCode {
  statements: Stmt[];
  helpers: string[];
}
const opcodeCode = new Map<string, OpcodeCode[]>();
function codeOf(variant: CpuVariant, flat: boolean, opcode: number): OpcodeCode {
  const key = `${variant.model}:${flat}`;
  let table = opcodeCode.get(key);
  if (!table) opcodeCode.set(key, (table = []));
  let c = table[opcode];
  if (!c) {
    const e = new JitEmitter(variant, false, flat);
    body(variant.table[opcode], e);
    const text = `${e.lines.join('\n')}\ncycles += ${variant.table[opcode].cycles}; instructions += 1;`;
    c = { statements: parseStatements(text), helpers: Object.keys(HELPERS).filter((h) => text.includes(h + '(')) };
    table[opcode] = c;
  }
  return c;
}

const UNPACK_P = parseStatements(`t = p; ${P_IN('t')}`);
const PACK_P: Expr = parseExpression(P_OUT);
const PROLOGUE = parseStatements('stopOnSelfLoop = load<u8>(vm + STATE_FLAGS) & RUN_STOP_ON_SELF_LOOP;');

/** The labels of the blocks around the code being written, innermost last, and where each name was last pushed. */
class Labels {
  readonly stack: string[] = [];
  private readonly at = new Map<string, number[]>();
  push(name: string) {
    let list = this.at.get(name);
    if (!list) this.at.set(name, (list = []));
    list.push(this.stack.length);
    this.stack.push(name);
  }
  pop() {
    const name = this.stack.pop()!;
    this.at.get(name)!.pop();
  }
  /** The br depth of the innermost label `name`. */
  depth(name: string): number {
    const list = this.at.get(name);
    if (!list?.length) throw new Error(`no label ${name}`);
    return this.stack.length - 1 - list[list.length - 1];
  }
}

/** What one instruction is compiled in: a block of `fast`, or alone in `careful`. */
interface Place {
  /** The block, when the instruction is not its last one (a write into what follows ends the block). */
  rest?: { from: number; to: number };
}

class FunctionWriter implements StatementContext {
  readonly code = new Code();
  readonly labels = new Labels();
  readonly c: StatementCompiler;
  private place: Place = {};
  private current?: Instruction;

  constructor(
    private readonly variant: CpuVariant,
    private readonly flat: boolean,
    private readonly helpers: Map<string, { index: number; result: boolean }>,
  ) {
    this.c = new StatementCompiler(this.code, this);
  }

  local(name: string) { return LOCAL_INDEX.get(name); }
  constant(name: string) {
    if (this.current) {
      if (name === 'opPc') return this.current.pc;
      if (name === 'op1') return this.current.bytes[1];
      if (name === 'op2') return this.current.bytes[2];
    }
    const v = (L as Record<string, unknown>)[name];
    return typeof v === 'number' ? v : undefined;
  }
  helper(name: string) { return this.helpers.get(name); }

  special(name: string, args: Expr[], c: StatementCompiler): boolean {
    switch (name) {
      case 'leaveBefore': {
        // A device read: nothing of the instruction is done; the interpreter runs it.
        c.assume('pc', this.current!.pc);
        c.assume('reason', L.EXIT_JIT_LEAVE);
        this.exit();
        return true;
      }
      case 'codeWritten':
      case 'stackWritten': {
        const rest = this.place.rest;
        if (!rest) return true;
        if (name === 'stackWritten') {
          if (rest.to <= 0x100 || rest.from >= 0x200) return true;
          args = [parseExpression('0x100 + s')];
        }
        const addr = c.tryFold(args[0]);
        if (addr !== undefined) {
          if (addr >= rest.from && addr < rest.to) c.assume('reason', L.EXIT_JIT_LEAVE);
          return true;
        }
        // A write into the block's own later instructions: the block ends after this one.
        c.compile([{
          k: 'if',
          c: { k: 'bin', op: '<', l: { k: 'bin', op: '&', l: { k: 'bin', op: '-', l: args[0], r: { k: 'num', v: rest.from } }, r: { k: 'num', v: 0xffff } }, r: { k: 'num', v: rest.to - rest.from } },
          then: [{ k: 'assign', targets: ['reason'], op: '=', e: { k: 'num', v: L.EXIT_JIT_LEAVE } }],
          else: [],
        }]);
        return true;
      }
    }
    return false;
  }

  begin(opcode: number, label: string) {
    this.code.begin(opcode);
    this.labels.push(label);
  }
  end() {
    this.code.end();
    this.labels.pop();
  }
  /** A branch to `label` from where the statements are being compiled (inside their own ifs, maybe). */
  br(label: string) { this.c.code.br(this.labels.depth(label) + this.c.nesting); }
  brIf(label: string) { this.c.code.brIf(this.labels.depth(label) + this.c.nesting); }

  /** Jumps to the exit with every register in its local; the code after it is unreachable. */
  exit() {
    this.c.materialize(EXIT_NAMES);
    this.br('exit');
    this.c.terminated = true;
  }

  /** Goes to the dispatch with everything in its locals (but `reason`, 0 on every path that goes on). */
  dispatch() {
    this.c.materialize(EXIT_NAMES.filter((n) => n !== 'reason'));
    this.br('dispatch');
    this.c.terminated = true;
  }

  /** Code reached only by jumps, after which every value is in its local. */
  joined() {
    this.c.known.clear();
    this.c.terminated = false;
  }

  /** Starts compiling at a place where every local holds its value and PC is `pc`. */
  startAt(pc: number) {
    this.c.known.clear();
    this.c.terminated = false;
    this.c.known.set('pc', { value: pc, dirty: false });
  }

  /** if (mismatch) { reason = STALE; exit } for the bytes of [from, from + bytes.length). */
  checkBytes(from: number, bytes: number[]) {
    const code = this.code;
    let first = true;
    const word = (at: number, n: number) => {
      let v = 0;
      for (let j = Math.min(n, 4) - 1; j >= 0; j--) v = v * 256 + bytes[at + j];
      return v;
    };
    for (let i = 0; i < bytes.length; ) {
      const n = bytes.length - i >= 8 ? 8 : bytes.length - i >= 4 ? 4 : bytes.length - i >= 2 ? 2 : 1;
      code.get(VM).mem(n === 8 ? OP.i64_load : n === 4 ? OP.i64_load32_u : n === 2 ? OP.i64_load16_u : OP.i64_load8_u, from + i);
      code.i64(word(i, n), n === 8 ? word(i + 4, 4) : 0).op(OP.i64_xor);
      if (!first) code.op(OP.i64_or);
      first = false;
      i += n;
    }
    code.i64(0).op(OP.i64_ne);
    code.begin(OP.if);
    this.labels.push('if');
    const saved = this.c.known;
    this.c.known = new Map([...saved].map(([k, v]) => [k, { ...v }]));
    this.c.assume('reason', L.EXIT_JIT_STALE);
    this.exit();
    this.c.known = saved;
    this.c.terminated = false;
    this.end();
  }

  /** Compiles one instruction; false when it ends the block (an exit after it). */
  instruction(ins: Instruction, place: Place): boolean {
    this.current = ins;
    this.place = place;
    const c = this.c;
    c.assume('pc', (ins.pc + 1) & 0xffff);
    c.assume('reason', 0);
    c.compile(codeOf(this.variant, this.flat, ins.info.opcode).statements);
    if (c.terminated) return false;
    const reason = c.valueOf('reason');
    if (reason === undefined) {
      // An exit after the instruction, decided as it ran (a device write, a self-loop, a write into the block).
      this.code.get(LOCAL_INDEX.get('reason')!);
      this.code.begin(OP.if);
      this.labels.push('if');
      const saved = c.known;
      c.known = new Map([...saved].map(([k, v]) => [k, { ...v }]));
      c.known.delete('reason');
      this.exit();
      c.known = saved;
      c.terminated = false;
      this.end();
      c.known.set('reason', { value: 0, dirty: false });
    } else if (reason !== 0) {
      this.exit();
      return false;
    }
    return true;
  }
}

/** The cycles before a block's last instruction must end before `limit`: then the interpreter would run all of it too. */
function fitCheck(w: FunctionWriter, cycles: number, otherwise: string) {
  const code = w.code;
  code.get(LOCAL_INDEX.get('cycles')!);
  if (cycles) code.i32(cycles).op(OP.i32_add);
  code.get(LOCAL_INDEX.get('limit')!).op(OP.i32_ge_s);
  w.brIf(otherwise);
}

/** Pushes the arguments of a call of the region signature (P packed), and `extra`. */
function pushArgs(w: FunctionWriter, extra?: () => void) {
  const code = w.code;
  for (const name of REGION_PARAMS) {
    if (name === 'p') w.c.push(PACK_P);
    else code.get(LOCAL_INDEX.get(name)!);
  }
  extra?.();
}

interface ModuleParts {
  m: ModuleBuilder;
  regionType: number;
  exitFunc: number;
  helpers: Map<string, { index: number; result: boolean }>;
}

/** The dispatch of a function: PC in another page goes `cross`; else a br_table on its low byte. */
function dispatchTable(w: FunctionWriter, region: Region, targets: Map<number, string>, otherwise: string) {
  const code = w.code;
  const pc = LOCAL_INDEX.get('pc')!;
  code.get(pc).i32(8).op(OP.i32_shr_u).i32(region.page).op(OP.i32_ne);
  w.brIf('cross');
  code.get(pc).i32(0xff).op(OP.i32_and);
  const depths: number[] = [];
  for (let lo = 0; lo < 256; lo++) depths.push(w.labels.depth(targets.get((region.page << 8) | lo) ?? otherwise));
  code.brTable(depths, w.labels.depth(otherwise));
}

/** The common tail of both functions: the exits through `cross` (another page's code) and `exit`. */
function tails(w: FunctionWriter, parts: ModuleParts, inner: () => void) {
  w.begin(OP.block, 'exit');
  w.begin(OP.block, 'cross');
  inner();
  w.end();
  w.joined();
  // Another page: its compiled code (or none) from the table.
  pushArgs(w, () => {
    w.code.get(LOCAL_INDEX.get('vm')!).get(LOCAL_INDEX.get('pc')!).i32(8).op(OP.i32_shr_u).i32(2).op(OP.i32_shl).op(OP.i32_add).mem(OP.i32_load, L.JIT_PAGES);
  });
  w.code.returnCallIndirect(parts.regionType);
  w.end();
  w.joined();
  pushArgs(w, () => w.code.get(LOCAL_INDEX.get('reason')!));
  w.code.returnCall(parts.exitFunc);
}

function prologue(w: FunctionWriter) {
  w.c.compile(UNPACK_P);
  w.c.compile(PROLOGUE);
  w.c.materialize();
}

function fastFunction(w: FunctionWriter, parts: ModuleParts, region: Region, carefulFunc: number) {
  prologue(w);
  tails(w, parts, () => {
    w.begin(OP.block, 'careful');
    w.begin(OP.loop, 'dispatch');
    const blocks = region.blocks;
    const labelOf = (b: Block) => `b${b.leader}`;
    for (let i = blocks.length - 1; i >= 0; i--) w.begin(OP.block, labelOf(blocks[i]));
    dispatchTable(w, region, new Map(blocks.map((b) => [b.leader, labelOf(b)])), 'careful');
    for (const block of blocks) {
      w.end(); // the block's label: its code follows
      w.startAt(block.leader);
      fitCheck(w, block.cyclesBeforeLast, 'careful');
      w.checkBytes(block.leader, block.instructions.flatMap((i) => i.bytes));
      let going = true;
      block.instructions.forEach((ins, i) => {
        if (!going) return;
        const last = i === block.instructions.length - 1;
        going = w.instruction(ins, last ? {} : { rest: { from: (ins.pc + ins.info.bytes) & 0xffff, to: block.end } });
      });
      if (going) w.dispatch();
      w.joined();
    }
    w.end(); // loop
    w.end(); // careful
    w.joined();
    pushArgs(w);
    w.code.returnCall(carefulFunc);
  });
}

function carefulFunction(w: FunctionWriter, parts: ModuleParts, region: Region, fastFunc: number) {
  prologue(w);
  const stepped = LOCAL_INDEX.get('stepped')!;
  tails(w, parts, () => {
    w.begin(OP.block, 'fast');
    w.begin(OP.loop, 'dispatch');
    w.begin(OP.block, 'none');
    const instructions = region.instructions;
    const labelOf = (i: Instruction) => `i${i.pc}`;
    for (let i = instructions.length - 1; i >= 0; i--) w.begin(OP.block, labelOf(instructions[i]));
    // After a step, a leader goes back to whole blocks.
    w.begin(OP.block, 'step');
    w.code.get(stepped).op(OP.i32_eqz);
    w.brIf('step');
    dispatchTable(w, region, new Map(region.blocks.map((b) => [b.leader, 'fast'])), 'step');
    w.end();
    dispatchTable(w, region, new Map(instructions.map((i) => [i.pc, labelOf(i)])), 'none');
    for (const ins of instructions) {
      w.end();
      w.startAt(ins.pc);
      w.code.get(LOCAL_INDEX.get('cycles')!).get(LOCAL_INDEX.get('limit')!).op(OP.i32_ge_s);
      w.code.begin(OP.if);
      w.labels.push('if');
      w.code.i32(L.EXIT_JIT_LEAVE).set(LOCAL_INDEX.get('reason')!);
      w.br('exit');
      w.end();
      w.checkBytes(ins.pc, ins.bytes);
      if (w.instruction(ins, {})) {
        w.code.i32(1).set(stepped);
        w.dispatch();
      }
      w.joined();
    }
    w.end(); // none: PC is no instruction start here
    w.joined();
    w.code.i32(L.EXIT_JIT_LEAVE).set(LOCAL_INDEX.get('reason')!);
    w.br('exit');
    w.end(); // loop
    w.end(); // fast
    w.joined();
    pushArgs(w);
    w.code.returnCall(fastFunc);
  });
}

/** Which helpers the region's code calls. */
function helpersUsed(region: Region, variant: CpuVariant, flat: boolean): string[] {
  const used = new Set<string>();
  for (const b of region.blocks) for (const ins of b.instructions) for (const h of codeOf(variant, flat, ins.info.opcode).helpers) used.add(h);
  return [...used].sort();
}

/** The module bytes of a region, for the variant, with attribute checks or (flat) for a memory map of RAM only. */
export function compileRegion(region: Region, variant: CpuVariant, flat: boolean): Uint8Array {
  const m = new ModuleBuilder();
  const i32s = (n: number): ValType[] => new Array(n).fill(I32);
  const regionType = m.type(i32s(REGION_PARAMS.length), [I32]);
  const exitType = m.type(i32s(REGION_PARAMS.length + 1), [I32]);
  const helpers = new Map<string, { index: number; result: boolean }>();
  for (const name of helpersUsed(region, variant, flat)) {
    const h = HELPERS[name];
    helpers.set(name, { index: m.importFunc('core', name, m.type(i32s(h.params), h.result ? [I32] : [])), result: h.result });
  }
  const exitFunc = m.importFunc('rt', 'exit', exitType);
  m.importMemory('env', 'memory');
  m.importTable('env', 'table');
  const parts: ModuleParts = { m, regionType, exitFunc, helpers };
  const locals: ValType[] = i32s(LOCALS.length);
  const fast = m.declare(regionType, locals);
  const careful = m.declare(regionType, locals);
  const fw = new FunctionWriter(variant, flat, helpers);
  fastFunction(fw, parts, region, careful.index);
  fast.code.append(fw.code);
  const cw = new FunctionWriter(variant, flat, helpers);
  carefulFunction(cw, parts, region, fast.index);
  careful.code.append(cw.code);
  m.exportFunc('fast', fast.index);
  return m.encode();
}

