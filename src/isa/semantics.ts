// The instruction set's semantics, as code: for each opcode of each CPU variant
// (src/isa/opcodes.ts), the AssemblyScript statements that execute it, every
// bus access in bus order. The one description behind both the interpreter's
// run loops (scripts/gen-core.ts writes them into assembly/generated/cpu.ts) and
// the JIT (src/jit/ compiles the same statements into WebAssembly at run time).
//
// How to drive this: make an Emitter for a variant (or a subclass that says
// what a bus access is where the code will run: the JIT's has constant
// operands and its own exits), call `body(info, emitter)`, and take
// `emitter.lines`. The statements use the run loops' locals: the registers
// (pc a x y s p, flags in nf zf cf vf: see P_OUT), temporaries (ea base v w old
// t lo hi), `cycles` (the instruction's base cycles are added by the caller,
// only penalties here), `opPc`, `reason`, `stopOnSelfLoop`, `trapOn`,
// `trapOpcode`, `intAt`, `end` and `stop` (END_RUN ends the run after the
// instruction, ABANDON abandons it for a device read).

import { isTrapOpcode, type CpuVariant, type OpcodeInfo } from './opcodes.js';

export const hex2 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(2, '0');

/**
 * Abandons the instruction for a device read the host has to perform: nothing
 * of it is committed, and the end of the run puts PC back at it (end < 0).
 */
export const ABANDON = '{ end = stop = -1; continue; }';

/** Ends the run after this instruction (`stop` ends the inner loop of runFunction, `end` the outer). */
export const END_RUN = 'end = stop = 0;';

export class Emitter {
  lines: string[] = [];
  readonly cmos: boolean;
  constructor(
    readonly variant: CpuVariant,
    readonly debug: boolean,
    /** Every page is plain RAM: data accesses need no attribute checks. */
    readonly flat = false,
  ) {
    this.cmos = variant.family === 'cmos';
  }

  emit(...code: string[]) {
    for (const c of code) this.lines.push(c);
  }

  private traced(addr: string, value: string, write = false): string {
    return this.debug ? ` tpos = trace${write ? 'Write' : 'Read'}(vm, tpos, ${addr}, ${value});` : '';
  }

  /** Reads the byte at PC into `dst` and advances PC. */
  fetch(dst: string) {
    this.emit(`${dst} = load<u8>(vm + pc);${this.traced('pc', dst)} pc = (pc + 1) & 0xFFFF;`);
  }

  /** Reads a little-endian word at PC into `dst` and advances PC by 2. */
  fetch16(dst: string) {
    this.fetch('lo');
    this.fetch('hi');
    this.emit(`${dst} = lo | (hi << 8);`);
  }

  /** A read whose value the CPU ignores: traced in debug runs, absent in fast runs. */
  dummyRead(addr: string) {
    if (this.debug) this.emit(`tpos = traceDummy(vm, tpos, ${addr});`);
  }

  /** A read of plain memory that never leaves the core: pointers, vectors, stack. */
  peek(dst: string, addr: string) {
    this.emit(`${dst} = load<u8>(vm + (${addr}));${this.traced(addr, dst)}`);
  }

  /** A data read: RAM and ROM inline, pages marked ATTR_READ_EXIT through the host. */
  read(dst: string, addr: string) {
    if (this.flat) return this.peek(dst, addr);
    this.emit(
      `${dst} = busRead(vm, ${addr}, cycles);`,
      `if (${dst} < 0) ${ABANDON}${this.traced(addr, dst)}`,
    );
  }

  /** A data write: RAM inline (marking the page dirty), ROM ignored, exit pages queued for the host. */
  write(addr: string, value: string) {
    if (this.debug) this.emit(`tpos = traceWrite(vm, tpos, ${addr}, ${value});`);
    if (this.flat) this.emit(`ramWrite(vm, ${addr}, ${value});`);
    else this.emit(`if (busWrite(vm, ${addr}, ${value})) { reason = EXIT_DEVICE_WRITE; ${END_RUN} }`);
  }

  /**
   * The write cycles of a read-modify-write instruction after the read of `old`:
   * NMOS writes the old value back before the new one, the 65C02 reads again instead.
   */
  rmwWrite(addr: string, old: string, value: string) {
    if (this.cmos) {
      this.dummyRead(addr);
      this.write(addr, value);
      return;
    }
    if (this.debug) this.emit(`tpos = traceWrite(vm, tpos, ${addr}, ${old});`);
    if (this.flat) return this.write(addr, value); // writing the old value back changes no RAM
    if (this.debug) this.emit(`tpos = traceWrite(vm, tpos, ${addr}, ${value});`);
    this.emit(`if (busWriteTwice(vm, ${addr}, ${old}, ${value})) { reason = EXIT_DEVICE_WRITE; ${END_RUN} }`);
  }

  push(value: string) {
    if (this.debug) this.emit(`tpos = traceWrite(vm, tpos, 0x100 | s, ${value});`);
    this.emit(`s = push(vm, s, ${value});`);
  }

  pull(dst: string) {
    this.emit('s = (s + 1) & 0xFF;');
    this.peek(dst, '0x100 | s');
  }

  /** The stack read of a cycle that only moves the stack pointer. */
  dummyStack() {
    this.dummyRead('0x100 | s');
  }
}

// ---- Flag helpers (text) ----------------------------------------------------
export const NZ = (r: string) => `nf = zf = ${r};`;
export const P_OUT = '((nf & 0x80) | vf | 0x20 | (p & 0x0C) | (zf ? 0 : 2) | cf)';
export const P_IN = (v: string) => `nf = ${v}; vf = ${v} & 0x40; p = ${v} & 0x0C; zf = (${v} & 2) ^ 2; cf = ${v} & 1;`;

/** Takes apart the packed result of the ALU helpers in assembly/alu.ts (A, C at bit 8, V at 9, N at 10, Z at 11). */
export const UNPACK = 'a = t & 0xFF; cf = (t >> 8) & 1; vf = (t >> 3) & 0x40; nf = (t >> 3) & 0x80; zf = (t >> 11) ^ 1;';

// ---- Operations on a value v (read and modify kinds) --------------------------
function aluOp(m: string, e: Emitter): string[] | null {
  const dec = e.cmos ? 'Cmos' : 'Nmos';
  const adc = [
    `if (p & 0x08) { t = adcDecimal${dec}(a, v, cf); ${UNPACK}${e.cmos ? ' cycles++;' : ''} }`,
    'else { t = a + v + cf; vf = ((~(a ^ v) & (a ^ t)) >> 1) & 0x40; cf = t >> 8; a = t & 0xFF; nf = zf = a; }',
  ];
  const sbc = [
    `if (p & 0x08) { t = sbcDecimal${dec}(a, v, cf); ${UNPACK}${e.cmos ? ' cycles++;' : ''} }`,
    'else { v ^= 0xFF; t = a + v + cf; vf = ((~(a ^ v) & (a ^ t)) >> 1) & 0x40; cf = t >> 8; a = t & 0xFF; nf = zf = a; }',
  ];
  switch (m) {
    case 'LDA': return ['a = v;', NZ('a')];
    case 'LDX': return ['x = v;', NZ('x')];
    case 'LDY': return ['y = v;', NZ('y')];
    case 'LAX': return ['a = x = v;', NZ('a')];
    case 'ORA': return ['a |= v;', NZ('a')];
    case 'AND': return ['a &= v;', NZ('a')];
    case 'EOR': return ['a ^= v;', NZ('a')];
    case 'ADC': return adc;
    case 'SBC': return sbc;
    case 'CMP': return ['cf = <i32>(a >= v);', NZ('(a - v) & 0xFF')];
    case 'CPX': return ['cf = <i32>(x >= v);', NZ('(x - v) & 0xFF')];
    case 'CPY': return ['cf = <i32>(y >= v);', NZ('(y - v) & 0xFF')];
    case 'BIT': return ['zf = a & v; nf = v; vf = v & 0x40;'];
    case 'NOP': return [];
    case 'LAS': return ['a = x = s = v & s;', NZ('a')];
    case 'ANC': return ['a &= v;', NZ('a'), 'cf = a >> 7;'];
    case 'ALR': return ['a &= v; cf = a & 1; a >>= 1;', NZ('a')];
    case 'ARR': return [`t = arr(a & v, cf, p & 0x08); ${UNPACK}`];
    case 'ANE': return ['a = (a | 0xEE) & x & v;', NZ('a')];
    case 'LXA': return ['a = x = (a | 0xEE) & v;', NZ('a')];
    case 'SBX': return ['t = (a & x) - v; cf = <i32>(t >= 0); x = t & 0xFF;', NZ('x')];
  }
  return null;
}

/** Read-modify-write operations: transform v into w (and update registers). */
function modifyOp(m: string, e: Emitter): string[] | null {
  const then = (op: string) => ['v = w;', ...aluOp(op, e)!];
  switch (m) {
    case 'ASL': return ['cf = v >> 7; w = (v << 1) & 0xFF;', NZ('w')];
    case 'LSR': return ['cf = v & 1; w = v >> 1;', NZ('w')];
    case 'ROL': return ['w = ((v << 1) | cf) & 0xFF; cf = v >> 7;', NZ('w')];
    case 'ROR': return ['w = (v >> 1) | (cf << 7); cf = v & 1;', NZ('w')];
    case 'INC': return ['w = (v + 1) & 0xFF;', NZ('w')];
    case 'DEC': return ['w = (v - 1) & 0xFF;', NZ('w')];
    case 'SLO': return ['cf = v >> 7; w = (v << 1) & 0xFF;', ...then('ORA')];
    case 'RLA': return ['w = ((v << 1) | cf) & 0xFF; cf = v >> 7;', ...then('AND')];
    case 'SRE': return ['cf = v & 1; w = v >> 1;', ...then('EOR')];
    case 'RRA': return ['w = (v >> 1) | (cf << 7); cf = v & 1;', ...then('ADC')];
    case 'DCP': return ['w = (v - 1) & 0xFF;', ...then('CMP')];
    case 'ISC': return ['w = (v + 1) & 0xFF;', ...then('SBC')];
    case 'TSB': return ['zf = a & v; w = v | a;'];
    case 'TRB': return ['zf = a & v; w = v & ~a & 0xFF;'];
  }
  const bit = /^([RS])MB([0-7])$/.exec(m);
  if (bit) return [bit[1] === 'R' ? `w = v & ${hex2(~(1 << +bit[2]) & 0xff)};` : `w = v | ${hex2(1 << +bit[2])};`];
  return null;
}

/** Value stored by write operations (may also adjust the effective address). */
function storeValue(m: string): string | null {
  switch (m) {
    case 'STA': return 'a';
    case 'STX': return 'x';
    case 'STY': return 'y';
    case 'STZ': return '0';
    case 'SAX': return 'a & x';
  }
  return null;
}

// The "unstable high byte" stores: value & (high byte of the base address + 1);
// when indexing crosses a page, the high byte of the address becomes that value.
const UNSTABLE_STORES: Record<string, string> = {
  SHA: 'a & x',
  SHX: 'x',
  SHY: 'y',
  TAS: 'a & x',
};

// ---- Effective addresses ------------------------------------------------------
type Access = 'read' | 'write' | 'rmw';

/**
 * The page-crossing cycle of an indexed read, counted after the read so that a
 * device read that abandons the instruction has counted nothing. Indexing moves
 * the high byte by at most one, so bit 8 of ea ^ base tells a crossing.
 */
function penaltyCycle(info: OpcodeInfo, e: Emitter) {
  const indexedMode = info.mode === 'abx' || info.mode === 'aby' || info.mode === 'izy';
  if (indexedMode && info.pagePenalty) e.emit('cycles += ((ea ^ base) >> 8) & 1;');
}

/**
 * Emits the addressing cycles of a memory operand and leaves the address in `ea`.
 * Read accesses that cross a page add the penalty cycle themselves.
 */
function effectiveAddress(info: OpcodeInfo, access: Access, e: Emitter) {
  // The 65C02's indexing dummy read is at the last byte of the instruction;
  // the NMOS one at the not-yet-carried address.
  const unfixed = '(base & 0xFF00) | (ea & 0xFF)';
  const indexDummy = e.cmos ? '(pc - 1) & 0xFFFF' : unfixed;
  const indexed = (reg: string) => {
    e.emit(`ea = (base + ${reg}) & 0xFFFF;`);
    if (access === 'read' || (access === 'rmw' && e.cmos && info.pagePenalty)) {
      // The extra cycle only when a page is crossed (65C02 shifts/rotates abs,X too);
      // it is counted by penaltyCycle() after the read.
      if (e.debug) {
        e.emit('if ((ea ^ base) & 0xFF00) {');
        e.dummyRead(indexDummy);
        e.emit('}');
      }
    } else {
      e.dummyRead(indexDummy);
    }
  };
  switch (info.mode) {
    case 'zp':
      e.fetch('ea');
      return;
    case 'zpx':
    case 'zpy':
      e.fetch('ea');
      e.dummyRead('ea');
      e.emit(`ea = (ea + ${info.mode === 'zpx' ? 'x' : 'y'}) & 0xFF;`);
      return;
    case 'abs':
      e.fetch16('ea');
      return;
    case 'abx':
    case 'aby':
      e.fetch16('base');
      indexed(info.mode === 'abx' ? 'x' : 'y');
      return;
    case 'izx':
      e.fetch('t');
      e.dummyRead('t');
      e.emit('t = (t + x) & 0xFF;');
      e.peek('lo', 't');
      e.peek('hi', '(t + 1) & 0xFF');
      e.emit('ea = lo | (hi << 8);');
      return;
    case 'izy':
      e.fetch('t');
      e.peek('lo', 't');
      e.peek('hi', '(t + 1) & 0xFF');
      e.emit('base = lo | (hi << 8);');
      indexed('y');
      return;
    case 'izp':
      e.fetch('t');
      e.peek('lo', 't');
      e.peek('hi', '(t + 1) & 0xFF');
      e.emit('ea = lo | (hi << 8);');
      return;
  }
  throw new Error(`no effective address for ${info.mnemonic} ${info.mode}`);
}

// ---- Instruction bodies ----------------------------------------------------------
export const SELF_LOOP = `if (pc == opPc && stopOnSelfLoop) { reason = EXIT_SELF_LOOP; ${END_RUN} }`;

/**
 * A relative branch. Taken, it costs a cycle more, and one more again across a
 * page; taken within its page it polls the interrupt lines before its extra
 * cycle, not in it (its mark in STATE_RUN_LATE_AT says so).
 */
function branchTo(cond: string, e: Emitter) {
  e.fetch('t');
  e.emit(`if (${cond}) {`);
  e.dummyRead('pc');
  e.emit('ea = (pc + <i32><i8>t) & 0xFFFF;', 'if ((ea ^ pc) & 0xFF00) {');
  e.dummyRead('(pc & 0xFF00) | (ea & 0xFF)');
  e.emit('cycles += 2;', '} else { cycles++; store<i32>(vm, cycles + 2, STATE_RUN_LATE_AT); }', 'pc = ea;', SELF_LOOP, '}');
}

const BRANCHES: Record<string, string> = {
  BPL: '!(nf & 0x80)',
  BMI: 'nf & 0x80',
  BVC: '!vf',
  BVS: 'vf',
  BCC: '!cf',
  BCS: 'cf',
  BNE: 'zf',
  BEQ: '!zf',
  BRA: 'true',
};

const IMPLIED: Record<string, string> = {
  CLC: 'cf = 0;',
  SEC: 'cf = 1;',
  CLV: 'vf = 0;',
  CLD: 'p &= ~0x08;',
  SED: 'p |= 0x08;',
  // The poll at the end of CLI and SEI (and PLP) still sees the I flag from before them.
  CLI: 'markIFlag(vm, cycles + 2, p); p &= ~0x04;',
  SEI: 'markIFlag(vm, cycles + 2, p); p |= 0x04;',
  TAX: 'x = a; nf = zf = x;',
  TAY: 'y = a; nf = zf = y;',
  TXA: 'a = x; nf = zf = a;',
  TYA: 'a = y; nf = zf = a;',
  TSX: 'x = s; nf = zf = x;',
  TXS: 's = x;',
  INX: 'x = (x + 1) & 0xFF; nf = zf = x;',
  INY: 'y = (y + 1) & 0xFF; nf = zf = y;',
  DEX: 'x = (x - 1) & 0xFF; nf = zf = x;',
  DEY: 'y = (y - 1) & 0xFF; nf = zf = y;',
  NOP: '',
};

export function body(info: OpcodeInfo, e: Emitter): void {
  const m = info.mnemonic;
  const mode = info.mode;

  // Trap opcodes (isTrapOpcode: the NMOS JAMs, the CMOS one-byte NOPs) can serve as the hypercall.
  if (isTrapOpcode(info)) {
    e.emit(`if (trapOn && op == trapOpcode) { pc = opPc; store<u16>(vm, opPc, STATE_EXIT_ADDR); reason = EXIT_TRAP; ${END_RUN}${e.debug ? ' tpos = tstart;' : ''} continue; }`);
  }

  if (m === 'JAM') {
    e.dummyRead('pc');
    e.emit(`pc = opPc; store<u8>(vm, HALT_JAM, STATE_HALT); reason = EXIT_JAM; ${END_RUN}`);
    return;
  }
  if (m in BRANCHES) return branchTo(BRANCHES[m], e);

  if (mode === 'zpr') {
    // BBRn/BBSn zp,rel: read zp (twice), fetch the offset, branch on bit n.
    const n = +m[3];
    e.fetch('ea');
    e.peek('v', 'ea');
    e.dummyRead('ea');
    e.fetch('t');
    const cond = `${m[2] === 'S' ? '' : '!'}(v & ${hex2(1 << n)})`;
    e.emit(`if (${cond}) {`);
    e.dummyRead('pc');
    e.emit('ea = (pc + <i32><i8>t) & 0xFFFF;', 'cycles++;', 'if ((ea ^ pc) & 0xFF00) {');
    e.dummyRead('pc');
    e.emit('cycles++; }', 'pc = ea;', SELF_LOOP, '}');
    return;
  }

  if (m === 'NOP' && mode === 'abs' && info.cycles === 8) {
    // The 65C02's 8-cycle NOP ($5C): after its operand it reads $FFll, then
    // $FFFF four times (as a W65C02S does), and never its operand address.
    e.fetch16('ea');
    e.dummyRead('0xFF00 | lo');
    for (let i = 0; i < 4; i++) e.dummyRead('0xFFFF');
    return;
  }

  switch (m) {
    case 'BRK':
      e.fetch('t'); // the padding byte
      e.push('pc >> 8');
      e.push('pc & 0xFF');
      e.push(`${P_OUT} | 0x10`);
      // The NMOS BRK is the interrupt sequence: it does not poll, and an NMI
      // arriving by its 4th cycle takes its vector. The 65C02 completes BRK first.
      if (e.cmos) {
        e.emit('p = (p | 0x04) & ~0x08;');
        e.peek('lo', '0xFFFE');
        e.peek('hi', '0xFFFF');
      } else {
        e.emit('p |= 0x04; store<i32>(vm, cycles + 7, STATE_RUN_SEQ_AT);', 'ea = sequenceVector(vm, cycles, 0xFFFE);');
        e.peek('lo', 'ea');
        e.peek('hi', 'ea + 1');
      }
      e.emit('pc = lo | (hi << 8);');
      return;
    case 'JSR':
      e.fetch('lo');
      e.dummyStack();
      e.push('pc >> 8');
      e.push('pc & 0xFF');
      e.peek('hi', 'pc');
      e.emit('pc = lo | (hi << 8);');
      return;
    case 'RTS':
      e.dummyRead('pc');
      e.dummyStack();
      e.pull('lo');
      e.pull('hi');
      e.emit('pc = lo | (hi << 8);');
      e.dummyRead('pc');
      e.emit('pc = (pc + 1) & 0xFFFF;');
      return;
    case 'RTI':
      e.dummyRead('pc');
      e.dummyStack();
      e.pull('t');
      e.emit(P_IN('t')); // the poll at its end sees the new I
      e.pull('lo');
      e.pull('hi');
      e.emit('pc = lo | (hi << 8);');
      return;
    case 'JMP':
      if (mode === 'abs') {
        e.fetch16('ea');
      } else if (mode === 'ind') {
        e.fetch16('base');
        e.peek('lo', 'base');
        if (e.cmos) {
          e.peek('hi', '(base + 1) & 0xFFFF');
          e.dummyRead('(base + 1) & 0xFFFF');
        } else {
          e.peek('hi', '(base & 0xFF00) | ((base + 1) & 0xFF)');
        }
        e.emit('ea = lo | (hi << 8);');
      } else {
        // 65C02 JMP (abs,X)
        e.fetch16('base');
        e.dummyRead('(pc - 2) & 0xFFFF');
        e.emit('base = (base + x) & 0xFFFF;');
        e.peek('lo', 'base');
        e.peek('hi', '(base + 1) & 0xFFFF');
        e.emit('ea = lo | (hi << 8);');
      }
      e.emit('pc = ea;', SELF_LOOP);
      return;
    case 'PHA':
    case 'PHX':
    case 'PHY':
      e.dummyRead('pc');
      e.push(m === 'PHA' ? 'a' : m === 'PHX' ? 'x' : 'y');
      return;
    case 'PHP':
      e.dummyRead('pc');
      e.push(`${P_OUT} | 0x10`);
      return;
    case 'PLA':
    case 'PLX':
    case 'PLY': {
      const r = m === 'PLA' ? 'a' : m === 'PLX' ? 'x' : 'y';
      e.dummyRead('pc');
      e.dummyStack();
      e.pull(r);
      e.emit(NZ(r));
      return;
    }
    case 'PLP':
      e.dummyRead('pc');
      e.dummyStack();
      e.pull('t');
      e.emit('markIFlag(vm, cycles + 4, p);', P_IN('t'));
      return;
    case 'WAI':
      // Waits for an interrupt line: with none seen at its end, the CPU idles
      // until the poll sees one (when the run knows when), or halts.
      e.dummyRead('pc');
      e.dummyRead('pc');
      e.emit(
        'if (cycles + 3 < intAt) {',
        '  if (intAt < end) cycles = intAt - 3;',
        `  else { store<u8>(vm, HALT_WAI, STATE_HALT); reason = intAt == NEVER ? EXIT_WAI : EXIT_BUDGET; ${END_RUN} }`,
        '}',
      );
      return;
    case 'STP':
      e.dummyRead('pc');
      e.dummyRead('pc');
      e.emit(`store<u8>(vm, HALT_STP, STATE_HALT); reason = EXIT_STP; ${END_RUN}`);
      return;
  }

  if (mode === 'imp' || mode === 'acc') {
    if (info.cycles > 1) e.dummyRead('pc');
    if (mode === 'acc') {
      const mod = modifyOp(m, e);
      if (!mod) throw new Error(`no accumulator form for ${m}`);
      e.emit('v = a;', ...mod, 'a = w;');
      return;
    }
    if (!(m in IMPLIED)) throw new Error(`no implied form for ${m}`);
    e.emit(IMPLIED[m]);
    return;
  }

  if (mode === 'imm') {
    e.fetch('v');
    if (m === 'BIT') {
      e.emit('zf = a & v;'); // 65C02 BIT #imm sets only Z
      return;
    }
    const op = aluOp(m, e);
    if (!op) throw new Error(`no immediate form for ${m}`);
    if (e.cmos && info.decimalPenalty) e.emit('if (p & 0x08) {'), e.dummyRead(m === 'ADC' ? '0x7F' : '0x00'), e.emit('}');
    e.emit(...op);
    return;
  }

  // Memory operands.
  const store = storeValue(m);
  if (store !== null) {
    effectiveAddress(info, 'write', e);
    e.write('ea', store);
    return;
  }
  if (m in UNSTABLE_STORES) {
    effectiveAddress(info, 'write', e);
    if (m === 'TAS') e.emit('s = a & x;');
    e.emit(`v = (${UNSTABLE_STORES[m]}) & ((base >> 8) + 1);`, 'if ((ea ^ base) & 0xFF00) ea = (ea & 0xFF) | (v << 8);');
    e.write('ea', 'v');
    return;
  }
  const mod = modifyOp(m, e);
  if (mod) {
    effectiveAddress(info, 'rmw', e);
    e.read('v', 'ea');
    penaltyCycle(info, e);
    e.emit('old = v;', ...mod);
    e.rmwWrite('ea', 'old', 'w');
    return;
  }
  const op = aluOp(m, e);
  if (op) {
    effectiveAddress(info, 'read', e);
    e.read('v', 'ea');
    penaltyCycle(info, e);
    if (e.cmos && info.decimalPenalty) e.emit('if (p & 0x08) {'), e.dummyRead('ea'), e.emit('}');
    e.emit(...op);
    return;
  }
  throw new Error(`no template for ${m} ${mode}`);
}
