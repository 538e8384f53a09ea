// The CPU variants are one descriptor list: the core has loops for each, the
// host and the front ends take their names from it, and the Rockwell R65C02
// is the WDC 65C02 without WAI and STP.
import { describe, it, expect, beforeAll } from 'vitest';
import { CoreMemory, ExitReason } from '../../src/core/cpu.ts';
import { CPU_MODELS, CPU_VARIANTS, CORE_LOOPS, coreLoopName, cpuVariant, opcodeTable, parseCpuModel, trapOpcodes } from '../../src/isa/opcodes.ts';
import { disassemble } from '../../src/isa/disasm.ts';
import { resolveSpec } from '../../src/machine/description.ts';

let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

describe('the descriptor list', () => {
  it('names the NMOS 6502, the WDC 65C02 and the Rockwell R65C02', () => {
    expect(CPU_VARIANTS.map((v) => [v.model, v.name, v.family])).toEqual([
      ['6502', 'NMOS 6502', 'nmos'],
      ['65c02', 'WDC 65C02', 'cmos'],
      ['r65c02', 'Rockwell R65C02', 'cmos'],
    ]);
    expect(CPU_MODELS).toEqual(['6502', '65c02', 'r65c02']);
  });

  it('parses a model whatever its case, and names the valid ones when it cannot', () => {
    expect(parseCpuModel('R65C02')).toBe('r65c02');
    expect(parseCpuModel('6502')).toBe('6502');
    expect(() => parseCpuModel('z80')).toThrow('unknown CPU "z80" (expected 6502, 65c02 or r65c02)');
    expect(() => parseCpuModel(65)).toThrow(/unknown CPU "65"/);
    expect(() => parseCpuModel('65816', (m) => new RangeError(`--cpu: ${m}`))).toThrow(RangeError);
    expect(() => resolveSpec({ profile: 'raw', cpu: '6809' as never, image: new Uint8Array(1) })).toThrow('cpu: "6809" is not a CPU model (6502, 65c02, r65c02)');
    expect(() => resolveSpec({ profile: 'raw', cpu: 'r65c02', image: new Uint8Array(1) })).not.toThrow();
  });

  it('has a 256-entry table per model; the R65C02 differs from the WDC part at $CB and $DB only', () => {
    for (const model of CPU_MODELS) expect(opcodeTable(model)).toHaveLength(256);
    const wdc = opcodeTable('65c02');
    const differs = opcodeTable('r65c02').filter((info, op) => JSON.stringify(info) !== JSON.stringify(wdc[op]));
    expect(differs.map((i) => [i.opcode, i.mnemonic, i.mode, i.bytes, i.cycles, i.undocumented])).toEqual([
      [0xcb, 'NOP', 'imp', 1, 1, true],
      [0xdb, 'NOP', 'imp', 1, 1, true],
    ]);
  });

  it('one trap rule for every model: BRK, the NMOS JAMs, the CMOS one-byte one-cycle NOPs', () => {
    expect(trapOpcodes('6502')).toEqual([0x00, 0x02, 0x12, 0x22, 0x32, 0x42, 0x52, 0x62, 0x72, 0x92, 0xb2, 0xd2, 0xf2]);
    const wdc = [0x00, ...Array.from({ length: 32 }, (_, i) => (i << 3) | 3).filter((op) => op !== 0xcb && op !== 0xdb)];
    expect(trapOpcodes('65c02')).toEqual(wdc);
    expect(trapOpcodes('r65c02')).toEqual([...wdc, 0xcb, 0xdb].sort((a, b) => a - b));
  });

  it('the core exports every loop of every model, and a Cpu of each model runs', () => {
    for (const { model } of CPU_VARIANTS) {
      for (const loop of CORE_LOOPS) expect(typeof core.exports[coreLoopName(loop, model)], `${loop} ${model}`).toBe('function');
      const cpu = core.cpu(0, model);
      expect(cpu.variant).toBe(cpuVariant(model));
      cpu.ram.set([0xa2, 0x05, 0xca, 0xd0, 0xfd, 0x4c, 0x05, 0x02], 0x0200); // LDX #5; DEX; BNE; JMP *
      cpu.pc = 0x0200;
      cpu.stopOnSelfLoop = true;
      expect(cpu.run(1000)).toBe(ExitReason.SelfLoop);
      expect({ model, x: cpu.x, cycles: cpu.cycles }).toEqual({ model, x: 0, cycles: 29 });
    }
    expect(() => core.cpu(0, 'z80' as never)).toThrow(/unknown CPU "z80"/);
  });
});

describe('the Rockwell R65C02', () => {
  it('runs $CB and $DB as one-byte, one-cycle NOPs, where the WDC part waits and stops', () => {
    for (const debug of [false, true]) {
      const r = core.cpu(0, 'r65c02');
      r.ram.set([0xcb, 0xdb, 0xe8], 0x0200);
      r.pc = 0x0200;
      r.tracing = true;
      expect(debug ? r.debugRun(2) : r.run(2)).toBe(ExitReason.Budget);
      expect({ pc: r.pc, cycles: r.cycles, halted: r.halted }).toEqual({ pc: 0x0202, cycles: 2, halted: null });
      if (debug) expect(r.takeTrace().map((c) => c.address)).toEqual([0x0200, 0x0201]);
    }
    const w = core.cpu(0, '65c02');
    w.ram.set([0xcb], 0x0200);
    w.pc = 0x0200;
    expect(w.run(10)).toBe(ExitReason.Wai);
    w.pc = 0x0201;
    w.ram[0x0201] = 0xdb;
    w.reset();
    w.pc = 0x0201;
    expect(w.run(10)).toBe(ExitReason.Stp);
  });

  it('takes $CB as its trap opcode, which the WDC part refuses', () => {
    const r = core.cpu(0, 'r65c02');
    r.ram.set([0xe8, 0xcb], 0x0200);
    r.pc = 0x0200;
    r.trapOpcode = 0xcb;
    expect(r.run(100)).toBe(ExitReason.Trap);
    expect({ pc: r.pc, x: r.x }).toEqual({ pc: 0x0201, x: 1 });
    expect(() => (core.cpu(0, '65c02').trapOpcode = 0xcb)).toThrow(/\$CB cannot be the trap opcode on the WDC 65C02: use one of \$00 \$03 \$0B/);
  });

  it('disassembles $CB and $DB as NOP', () => {
    const memory = Uint8Array.from([0xcb, 0xdb]);
    expect([disassemble(memory, 0, 'r65c02').text, disassemble(memory, 1, 'r65c02').text]).toEqual(['NOP', 'NOP']);
    expect([disassemble(memory, 0, '65c02').text, disassemble(memory, 1, '65c02').text]).toEqual(['WAI', 'STP']);
  });
});
