// Tom Harte's SingleStepTests (the subsets in the conformance data): every test
// of harte-6502/ and harte-wdc65c02/ checks registers, memory and cycle count
// in the fast run loop, and the exact bus trace in the debug loop.
import { describe, it, expect, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreMemory, type Cpu } from '../../src/core/cpu.ts';
import type { CpuModel } from '../../src/isa/opcodes.ts';
import { conformanceDir, readHarte, skipReason, type HarteTest } from '../helpers/conformance.ts';

const data = conformanceDir();
let core: CoreMemory;
beforeAll(async () => { core = await CoreMemory.create(); });

const hex = (n: number) => n.toString(16).padStart(2, '0');

function load(cpu: Cpu, t: HarteTest) {
  const i = t.initial;
  for (const [a, v] of i.ram) cpu.ram[a] = v;
  cpu.pc = i.pc; cpu.s = i.s; cpu.a = i.a; cpu.x = i.x; cpu.y = i.y; cpu.p = i.p;
  cpu.cycles = 0;
}

function stateDiff(cpu: Cpu, t: HarteTest, cycles: number): string[] {
  const f = t.final;
  const out: string[] = [];
  const regs: Array<[string, number, number]> = [
    ['pc', cpu.pc, f.pc], ['s', cpu.s, f.s], ['a', cpu.a, f.a], ['x', cpu.x, f.x], ['y', cpu.y, f.y],
    // B and bit 5 are not stored in the status register: compare the others.
    ['p', cpu.p & 0xcf, f.p & 0xcf],
  ];
  for (const [name, got, want] of regs) if (got !== want) out.push(`${name}=${hex(got)} want ${hex(want)}`);
  for (const [a, v] of f.ram) if (cpu.ram[a] !== v) out.push(`ram[${a.toString(16)}]=${hex(cpu.ram[a])} want ${hex(v)}`);
  if (cycles !== t.cycles.length) out.push(`cycles=${cycles} want ${t.cycles.length}`);
  return out;
}

function runFile(model: CpuModel, file: string): string[] {
  const failures: string[] = [];
  const cpu = core.cpu(0, model);
  for (const t of readHarte(file)) {
    // Fast loop: state and cycle count.
    load(cpu, t);
    cpu.run(1);
    let diff = stateDiff(cpu, t, cpu.cycles);
    // Debug loop with the bus trace: state, cycle count and every bus cycle.
    load(cpu, t);
    cpu.tracing = true;
    cpu.debugRun(1);
    cpu.tracing = false;
    const trace = cpu.takeTrace().map((c) => [c.address, c.value, c.write ? 'write' : 'read']);
    diff = diff.concat(stateDiff(cpu, t, cpu.cycles).map((d) => `debug: ${d}`));
    if (JSON.stringify(trace) !== JSON.stringify(t.cycles)) {
      diff.push(`bus trace ${JSON.stringify(trace)} want ${JSON.stringify(t.cycles)}`);
    }
    if (diff.length) failures.push(`"${t.name}" (p=${hex(t.initial.p)} a=${hex(t.initial.a)}): ${diff.join(', ')}`);
    for (const [a] of t.final.ram) cpu.ram[a] = 0;
    for (const [a] of t.initial.ram) cpu.ram[a] = 0;
  }
  return failures;
}

for (const [model, folder] of [['6502', 'harte-6502'], ['65c02', 'harte-wdc65c02']] as const) {
  describe.skipIf(!data)(`SingleStepTests ${folder}${data ? '' : ` (${skipReason})`}`, () => {
    const files = data ? readdirSync(join(data, folder)).filter((f) => f.endsWith('.json.gz')).sort() : [];
    it(`has its opcode files`, () => {
      expect(files.length).toBe(model === '6502' ? 151 : 210);
    });
    for (const file of files) {
      it(`opcode $${file.slice(0, 2)}: registers, memory, cycles and bus trace`, () => {
        const failures = runFile(model, join(folder, file));
        expect(failures.slice(0, 5), `${failures.length} of 100 tests fail`).toEqual([]);
      });
    }
  });
}
