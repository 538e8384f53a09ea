// Generates the Wasm core's run loops (assembly/generated/cpu.ts) from the CPU
// variants and their opcode tables in src/isa/opcodes.ts.
//
// How to drive this: `npm run gen` rewrites the generated file; `npm run
// check:gen` (part of `npm test`) fails when the committed file is stale.
//
// Each opcode becomes one `case` of a 256-way switch. Its code is written in
// bus order: every memory access of the instruction, dummy accesses included,
// goes through one of the bus primitives of `Emitter`. The same templates make
// three loops for each variant in CPU_VARIANTS (see CORE_LOOPS): a fast one
// (dummy accesses vanish, nothing is traced), the same for a memory map of RAM
// only (no attribute checks), and a debug one (every bus cycle is recorded
// when tracing is on, breakpoints are checked before each instruction).
//
// Interrupts are exact to the cycle (assembly/interrupts.ts): each loop keeps
// in a local only the first boundary at which a poll may see a line (`intAt`),
// asks pollAt there, and the few instructions that poll otherwise leave their
// mark in the state block: a taken branch within its page (STATE_RUN_LATE_AT),
// CLI/SEI/PLP (markIFlag), an interrupt sequence or NMOS BRK
// (STATE_RUN_SEQ_AT; sequenceVector picks its vector). Everything else the
// interrupt logic needs stays out of the loops' locals, which keeps the fast
// loops' register allocation as good as it is without interrupts.

import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CPU_VARIANTS, CORE_LOOPS, coreLoopName, cpuVariant, type CoreLoop, type CpuVariant, type OpcodeInfo } from '../src/isa/opcodes.ts';
import { Emitter, body, hex2, END_RUN, P_IN, P_OUT } from '../src/isa/semantics.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'assembly/generated/cpu.ts');

// ---- Run functions -----------------------------------------------------------------

/**
 * Opcodes that real programs seldom execute run out of line in the fast loops:
 * V8 compiles a function past a certain size with a much weaker register
 * allocator, which would slow every instruction down (see scripts/check-wat.ts).
 */
function isRare(info: OpcodeInfo, variant: CpuVariant): boolean {
  if (variant.family === 'nmos') return info.undocumented && info.mnemonic !== 'NOP' && info.mnemonic !== 'JAM' && info.opcode !== 0xeb;
  return /^(BBR|BBS|RMB|SMB)\d$|^(TSB|TRB)$/.test(info.mnemonic);
}

function caseCode(info: OpcodeInfo, e: Emitter): string[] {
  body(info, e);
  return [
    `      case ${hex2(info.opcode)}: { // ${info.mnemonic} ${info.mode}`,
    ...e.lines.map((l) => '        ' + l),
    `        cycles += ${info.cycles};`,
    '        break;',
    '      }',
  ];
}

const LOAD_REGISTERS = [
  'let pc = <i32>load<u16>(vm, STATE_PC);',
  'let a = <i32>load<u8>(vm, STATE_A), x = <i32>load<u8>(vm, STATE_X), y = <i32>load<u8>(vm, STATE_Y), s = <i32>load<u8>(vm, STATE_S);',
  'let p = <i32>load<u8>(vm, STATE_P);',
  'let nf = p, zf = (p & 2) ^ 2, cf = p & 1, vf = p & 0x40;',
];

const RELOAD_REGISTERS = [
  'pc = <i32>load<u16>(vm, STATE_PC);',
  'a = <i32>load<u8>(vm, STATE_A); x = <i32>load<u8>(vm, STATE_X); y = <i32>load<u8>(vm, STATE_Y); s = <i32>load<u8>(vm, STATE_S);',
  'p = <i32>load<u8>(vm, STATE_P);',
  'nf = p; zf = (p & 2) ^ 2; cf = p & 1; vf = p & 0x40;',
];

const STORE_REGISTERS = [
  'store<u16>(vm, pc, STATE_PC);',
  'store<u8>(vm, a, STATE_A); store<u8>(vm, x, STATE_X); store<u8>(vm, y, STATE_Y); store<u8>(vm, s, STATE_S);',
  `store<u8>(vm, ${P_OUT}, STATE_P);`,
];

const TEMPORARIES = 'let ea = 0, base = 0, v = 0, w = 0, old = 0, t = 0, lo = 0, hi = 0;';

const rareName = (variant: CpuVariant) => `rare_${variant.model}`;

/** The out-of-line executor of one rare opcode (fast loops): returns cycles | reason << 8. */
function rareFunction(variant: CpuVariant): string {
  const cases = variant.table.filter((info) => isRare(info, variant)).flatMap((info) => caseCode(info, new Emitter(variant, false)));
  return [
    `/** One rarely executed ${variant.name} instruction, whose opcode \`op\` has been fetched: see isRare in scripts/gen-core.ts. */`,
    `function ${rareName(variant)}(vm: usize, op: i32, cycles0: i32): i32 {`,
    ...LOAD_REGISTERS.map((l) => '  ' + l),
    '  const stopOnSelfLoop = <i32>load<u8>(vm, STATE_FLAGS) & RUN_STOP_ON_SELF_LOOP;',
    '  let cycles = cycles0, end = 1, stop = 1, reason = 0, opPc = (pc - 1) & 0xFFFF;',
    '  ' + TEMPORARIES,
    '  do {',
    '    switch (op) {',
    ...cases.map((l) => '  ' + l),
    '      default: unreachable();',
    '    }',
    '  } while (false);',
    '  if (end < 0) { reason = EXIT_DEVICE_READ; pc = opPc; } // abandoned: it runs again',
    ...STORE_REGISTERS.map((l) => '  ' + l),
    '  return (cycles - cycles0) | (reason << 8);',
    '}',
  ].join('\n');
}

/** The interrupt sequence to the vector in `ea`: 7 cycles, like BRK with B clear and no PC increment. */
function interruptSequence(e: Emitter): string[] {
  e.dummyRead('pc');
  e.dummyRead('pc');
  e.push('pc >> 8');
  e.push('pc & 0xFF');
  e.push(P_OUT);
  e.emit(e.cmos ? 'p = (p | 0x04) & ~0x08;' : 'p |= 0x04;');
  e.peek('lo', 'ea');
  e.peek('hi', 'ea + 1');
  e.emit('pc = lo | (hi << 8);', 'cycles += 7; store<i32>(vm, cycles, STATE_RUN_SEQ_AT);');
  return e.lines;
}

/**
 * What the loops do at an instruction boundary once a line may be seen
 * (cycles >= intAt): take the interrupt pollAt names, if any.
 */
function boundary(variant: CpuVariant, debug: boolean): string[] {
  return [
    'if (cycles >= intAt) {',
    '  ea = pollAt(vm, cycles, p);',
    '  intAt = load<i32>(vm, STATE_RUN_INT_AT);',
    '  if (ea) {',
    ...interruptSequence(new Emitter(variant, debug)).map((l) => '    ' + l),
    '    continue;',
    '  }',
    '}',
  ];
}

function runFunction(variant: CpuVariant, loop: CoreLoop): string {
  const debug = loop === 'debug';
  const flat = loop === 'runFlat';
  const cases: string[] = [];
  const rare: string[] = [];
  for (const info of variant.table) {
    if (!debug && isRare(info, variant)) rare.push(`      case ${hex2(info.opcode)}: // ${info.mnemonic} ${info.mode}`);
    else cases.push(...caseCode(info, new Emitter(variant, debug, flat)));
  }
  if (rare.length) {
    cases.push(
      ...rare,
      '      {',
      ...STORE_REGISTERS.map((l) => '        ' + l),
      `        t = ${rareName(variant)}(vm, op, cycles);`,
      ...RELOAD_REGISTERS.map((l) => '        ' + l),
      '        cycles += t & 0xFF;',
      '        if (t >> 8) {',
      `          reason = t >> 8; ${END_RUN}`,
      '          if (reason == EXIT_DEVICE_READ) instructions--; // abandoned: it runs again',
      '        }',
      '        break;',
      '      }',
    );
  }

  const what = debug ? 'Debug run' : flat ? 'Run, for a memory map of RAM only (no attribute checks),' : 'Run';
  return [
    `/** ${what} of the ${variant.name}${debug ? ' with breakpoints and bus trace' : ''}: see assembly/index.ts. */`,
    `export function ${coreLoopName(loop, variant.model)}(vm: usize, budget: i32): i32 {`,
    '  let intAt = beginRun(vm); // the first boundary at which a poll may see an interrupt line',
    ...LOAD_REGISTERS.map((l) => '  ' + l),
    '  const flags = <i32>load<u8>(vm, STATE_FLAGS);',
    '  const stopOnSelfLoop = flags & RUN_STOP_ON_SELF_LOOP;',
    '  const trapOn = flags & RUN_TRAP;',
    '  const trapOpcode = <i32>load<u8>(vm, STATE_TRAP_OPCODE);',
    ...(debug
      ? [
          '  let tpos = flags & RUN_TRACE ? <i32>load<u32>(vm, STATE_TRACE_LEN) : -1, tstart = tpos;',
          '  let skipBreakpoint = (flags & RUN_SKIP_BREAKPOINT) | <i32>load<u8>(vm, STATE_RUN_HOLD);',
          '  store<u8>(vm, flags & ~RUN_SKIP_BREAKPOINT, STATE_FLAGS);',
        ]
      : []),
    '  let cycles = 0, instructions = 0, end = budget, stop = 0, reason = 0, op = 0, opPc = pc;',
    '  ' + TEMPORARIES,
    '',
    '  const halt = <i32>load<u8>(vm, STATE_HALT);',
    '  if (halt != HALT_NONE) {',
    '    if (halt == HALT_JAM) { reason = EXIT_JAM; end = 0; }',
    '    else if (halt == HALT_STP) { reason = EXIT_STP; end = 0; }',
    '    else if (intAt <= budget) { store<u8>(vm, HALT_NONE, STATE_HALT); cycles = max(intAt, 0); } // WAI: a line is seen',
    '    else { cycles = budget; reason = intAt == NEVER ? EXIT_WAI : EXIT_BUDGET; end = 0; }',
    '  }',
    '',
    '  while (cycles < end) {',
    ...(debug
      ? [
          '    if (skipBreakpoint) skipBreakpoint = 0;',
          '    else if (load<u8>(vm + BREAKPOINTS + (pc >> 3)) & (1 << (pc & 7))) { reason = EXIT_BREAKPOINT; break; }',
          '    if (tpos > TRACE_CAPACITY - 8) { reason = EXIT_TRACE_FULL; break; }',
          '    tstart = tpos;',
        ]
      : []),
    ...boundary(variant, debug).map((l) => '    ' + l),
    ...(debug
      ? ['    stop = cycles + 1; // one instruction at a time: breakpoints and the trace ring are checked before each']
      : ['    stop = min(end, max(intAt, cycles + 1)); // until the budget is spent or a poll may see a line']),
    '    do {',
    '      opPc = pc;',
    '      op = <i32>load<u8>(vm + pc);',
    ...(debug ? ['      tpos = traceRead(vm, tpos, pc, op);'] : []),
    '      pc = (pc + 1) & 0xFFFF;',
    '      switch (op) {',
    ...cases.map((l) => '  ' + l),
    '        default: unreachable();',
    '      }',
    '      instructions++;',
    '    } while (cycles < stop);',
    '  }',
    '',
    '  if (end < 0) { reason = EXIT_DEVICE_READ; pc = opPc;' + (debug ? ' tpos = tstart;' : '') + ' } // abandoned: it runs again',
    '  else if (reason == 0) reason = EXIT_BUDGET;',
    ...STORE_REGISTERS.map((l) => '  ' + l),
    '  endRun(vm, cycles, p);',
    '  store<u64>(vm, load<u64>(vm, STATE_CYCLES) + <u64>cycles, STATE_CYCLES);',
    '  store<u64>(vm, load<u64>(vm, STATE_INSTRUCTIONS) + <u64>instructions, STATE_INSTRUCTIONS);',
    '  store<u8>(vm, reason, STATE_EXIT_REASON);',
    ...(debug ? ['  if (tpos >= 0) store<u32>(vm, tpos, STATE_TRACE_LEN);'] : []),
    '  return reason;',
    '}',
  ].join('\n');
}

export function generate(): string {
  const parts = [
    '// GENERATED by scripts/gen-core.ts from src/isa/opcodes.ts: do not edit; edit the table or the generator and run `npm run gen`.',
    '//',
    '// The fetch-decode-execute loops of the core, for each CPU variant: run, runFlat',
    '// (all pages RAM), debug (breakpoints, bus trace), and the out-of-line rare opcodes.',
    '// Locals hold the registers during a run; nf/zf hold the values whose bit 7 and',
    '// zero-ness are the N and Z flags, cf is 0/1, vf is 0/0x40, p keeps D and I.',
    '',
    'import {',
    '  BREAKPOINTS, TRACE_CAPACITY,',
    '  STATE_PC, STATE_A, STATE_X, STATE_Y, STATE_S, STATE_P, STATE_HALT, STATE_CYCLES, STATE_INSTRUCTIONS,',
    '  STATE_RUN_INT_AT, STATE_RUN_LATE_AT, STATE_RUN_SEQ_AT, STATE_RUN_HOLD,',
    '  STATE_FLAGS, STATE_TRAP_OPCODE, STATE_EXIT_REASON, STATE_EXIT_ADDR, STATE_TRACE_LEN,',
    '  HALT_NONE, HALT_JAM, HALT_STP, HALT_WAI,',
    '  RUN_STOP_ON_SELF_LOOP, RUN_TRAP, RUN_TRACE, RUN_SKIP_BREAKPOINT,',
    '  EXIT_BUDGET, EXIT_SELF_LOOP, EXIT_JAM, EXIT_STP, EXIT_WAI, EXIT_BREAKPOINT, EXIT_DEVICE_READ,',
    '  EXIT_DEVICE_WRITE, EXIT_TRAP, EXIT_TRACE_FULL,',
    "} from '../../src/core/layout';",
    "import { busRead, busWrite, busWriteTwice, ramWrite, push, traceRead, traceDummy, traceWrite } from '../bus';",
    "import { beginRun, pollAt, sequenceVector, markIFlag, endRun, NEVER } from '../interrupts';",
    "import { adcDecimalNmos, sbcDecimalNmos, adcDecimalCmos, sbcDecimalCmos, arr } from '../alu';",
  ];
  for (const variant of CPU_VARIANTS.map((v) => cpuVariant(v.model))) {
    for (const loop of CORE_LOOPS) parts.push('', runFunction(variant, loop));
    parts.push('', rareFunction(variant));
  }
  return parts.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate();
  if (process.argv.includes('--check')) {
    const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
    if (current !== text) {
      console.error(`${OUT} is out of date: run \`npm run gen\` and commit the result.`);
      process.exit(1);
    }
    console.log('generated core is current');
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${OUT} (${(text.length / 1024).toFixed(0)} KiB)`);
  }
}
