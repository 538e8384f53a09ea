// The JIT runs guests exactly as the interpreter does: the same exits, and
// the same registers, memory, dirty pages, cycle counts, device accesses and
// interrupts after every run (test/jit/lockstep.ts compares them), over
// random programs, random slicings, random interrupt lines, devices, ROM,
// traps, halts and self-modifying code, on every model, for memory maps of
// RAM only and with devices.
import { describe, it, expect } from 'vitest';
import { ExitReason, PageAttr, type Cpu } from '../../src/core/cpu.ts';
import * as L from '../../src/core/layout.ts';
import { CPU_MODELS, cpuVariant, trapOpcodes, type CpuModel } from '../../src/isa/opcodes.ts';
import { Lockstep, random } from './lockstep.ts';

/** 64 KiB of random code: every byte an opcode or an operand, few of them halting. */
function randomMemory(model: CpuModel, rnd: () => number): Uint8Array {
  const table = cpuVariant(model).table;
  const halting = new Set(table.filter((i) => i.mnemonic === 'JAM' || i.mnemonic === 'STP').map((i) => i.opcode));
  const ram = new Uint8Array(0x10000);
  for (let a = 0; a < 0x10000; a++) {
    let b = Math.floor(rnd() * 256);
    while (halting.has(b) && rnd() < 0.9) b = Math.floor(rnd() * 256);
    ram[a] = b;
  }
  return ram;
}

/**
 * Small loops of random instructions: a counter in X, a body of loads, stores
 * (into the loop's own operands too), read-modify-writes, stack operations,
 * flag changes, device accesses; a JSR to a routine; the loops chain into
 * each other, and the handlers of NMI and IRQ return at once.
 */
function randomLoops(model: CpuModel, rnd: () => number, devices: boolean): Uint8Array {
  const table = cpuVariant(model).table;
  const leaves = ['JAM', 'STP', 'WAI', 'BRK', 'JMP', 'JSR', 'RTS', 'RTI', 'PLA', 'PLP', 'PLX', 'PLY', 'CLI'];
  const touchesX = ['TXS', 'TAS', 'TAX', 'INX', 'DEX', 'LAX', 'LXA', 'SBX', 'LAS', 'TSX', 'LDX'];
  const bodyOps = table.filter((i) => !leaves.includes(i.mnemonic) && !touchesX.includes(i.mnemonic) && i.mode !== 'rel' && i.mode !== 'zpr' && i.mode !== 'zp' && i.mode !== 'zpx' && i.mode !== 'zpy');
  const ram = randomMemory(model, rnd);
  // Zero-page pointers into RAM (and sometimes at a device).
  for (let z = 0; z < 0x100; z += 2) {
    ram[z] = Math.floor(rnd() * 256);
    ram[z + 1] = devices && rnd() < 0.1 ? 0xc0 : 0x20 + Math.floor(rnd() * 0x40);
  }
  let at = 0x0400;
  const emit = (...bytes: number[]) => { for (const b of bytes) ram[at++] = b & 0xff; };
  const loops: number[] = [];
  for (let n = 0; n < 40 && at < 0x1e00; n++) {
    loops.push(at);
    emit(0xa2, 1 + Math.floor(rnd() * 40)); // LDX #n
    const top = at;
    const operands: number[] = [];
    const count = 2 + Math.floor(rnd() * 10);
    for (let k = 0; k < count; k++) {
      const r = rnd();
      if (r < 0.1 && operands.length) {
        // A store into an operand of this loop's own code.
        const target = operands[Math.floor(rnd() * operands.length)];
        emit(0x8d, target, target >> 8); // STA abs
        continue;
      }
      if (r < 0.15 && devices) {
        emit(rnd() < 0.5 ? 0xad : 0x8d, Math.floor(rnd() * 16), 0xc0); // LDA/STA a device
        continue;
      }
      if (r < 0.2) {
        emit(0x48, 0x68); // PHA PLA
        continue;
      }
      const ins = bodyOps[Math.floor(rnd() * bodyOps.length)];
      emit(ins.opcode);
      if (ins.mode === 'imm') operands.push(at);
      for (let j = 1; j < ins.bytes; j++) {
        // Absolute operands into RAM away from the code (or at a device, or into ROM).
        if (ins.bytes === 3 && j === 2) emit(devices && rnd() < 0.05 ? (rnd() < 0.5 ? 0xc0 : 0xd0) : 0x20 + Math.floor(rnd() * 0x40));
        else if (ins.bytes === 2 && ins.mode !== 'imm') emit(Math.floor(rnd() * 128) * 2); // a pointer
        else emit(Math.floor(rnd() * 256));
      }
    }
    if (rnd() < 0.3) emit(0x20, 0x00, 0x1f); // JSR $1F00
    emit(0xca); // DEX
    const offset = top - (at + 2);
    if (offset >= -128) emit(0xd0, offset); // BNE top
    else emit(0xd0, 0x03, 0x4c, top, top >> 8); // BNE +3; JMP top
  }
  // The routine, the handlers, and the chain's end: back to the first loop.
  ram.set([0xe8, 0xca, 0x60], 0x1f00); // INX DEX RTS
  ram[0x1f10] = 0x40; // RTI
  emit(0x4c, loops[0], loops[0] >> 8);
  ram.set([0x10, 0x1f, 0x00, 0x04, 0x10, 0x1f], 0xfffa);
  return ram;
}

interface Scenario {
  model: CpuModel;
  seed: number;
  devices: boolean;
  memory: 'random' | 'loops';
  /** The largest slice; runs are sliced at random from 1 up to it. */
  most: number;
  cycles: number;
}

/** The host's side of a run that ended: device reads answered, writes taken, traps stepped over, halts restarted. */
function handleExit(cpu: Cpu, reason: ExitReason, rnd: () => number, restart: number) {
  switch (reason) {
    case ExitReason.DeviceRead:
      cpu.completeRead((cpu.exitAddress * 7 + Number(cpu.cycles % 251)) & 0xff);
      break;
    case ExitReason.DeviceWrite:
      cpu.takeWrites();
      break;
    case ExitReason.Trap:
      cpu.pc = (cpu.pc + 1) & 0xffff;
      break;
    case ExitReason.Jam:
    case ExitReason.Stp:
      cpu.slot[L.STATE_HALT] = L.HALT_NONE;
      cpu.pc = restart;
      break;
  }
  void rnd;
}

async function drive(s: Scenario) {
  const rnd = random(s.seed * 1009 + CPU_MODELS.indexOf(s.model));
  const pair = await Lockstep.create(s.model, 'force');
  const image = s.memory === 'random' ? randomMemory(s.model, rnd) : randomLoops(s.model, rnd, s.devices);
  const traps = trapOpcodes(s.model);
  pair.each((cpu) => {
    cpu.ram.set(image);
    if (s.devices) {
      cpu.mapPages(0xc0, 0xc1, PageAttr.DEVICE);
      cpu.mapPages(0xd0, 0xdf, PageAttr.ROM);
    }
    cpu.pc = s.memory === 'random' ? 0x0400 + Math.floor((s.seed * 977) % 0x8000) : 0x0400;
    cpu.p = 0x20 | (s.seed & 1 ? 0x08 : 0) | (s.memory === 'loops' ? 0x04 : 0); // decimal mode in half of them
    cpu.stopOnSelfLoop = s.seed % 3 === 0;
    if (s.seed % 4 === 1) cpu.trapOpcode = traps[s.seed % traps.length];
  });
  const seen = new Map<ExitReason, number>();
  // Interrupt lines at random cycles, the same for both.
  const events: Array<{ cycle: number; nmi: boolean; on: boolean }> = [];
  for (let i = 0; i < s.cycles / 2000; i++) events.push({ cycle: Math.floor(rnd() * s.cycles), nmi: rnd() < 0.3, on: rnd() < 0.5 });
  events.sort((a, b) => a.cycle - b.cycle);
  let next = 0;
  const cpu = pair.interpreted;
  while (cpu.cycles < s.cycles) {
    const due = next < events.length ? events[next].cycle : Infinity;
    const budget = Math.max(1, Math.min(1 + Math.floor(rnd() * s.most), due - cpu.cycles, s.cycles - cpu.cycles));
    const reason = pair.run(budget);
    seen.set(reason, (seen.get(reason) ?? 0) + 1);
    const restart = 0x0400 + Math.floor(rnd() * 0x1000);
    pair.each((c) => handleExit(c, reason, rnd, restart));
    for (; next < events.length && events[next].cycle <= cpu.cycles; next++) {
      const e = events[next];
      pair.each((c) => (e.nmi ? c.nmi(e.cycle) : c.setIrq(0, e.on, e.cycle)));
    }
    pair.compare('after the host handled the exit');
  }
  const metrics = pair.compiled.jitMetrics!;
  return { seen, metrics, runs: pair.runs };
}

describe.each(CPU_MODELS)('the JIT against the interpreter on the %s', (model) => {
  for (const devices of [false, true]) {
    const where = devices ? 'with devices and ROM' : 'all RAM';
    it(`random loops (self-modifying, chained, interrupted), ${where}, in random slices: identical after every run`, async () => {
      const CYCLES = devices ? 60_000 : 200_000;
      let compiled = 0, invalidations = 0, deviceExits = 0;
      for (const seed of [1, 2, 3, 4]) {
        const { seen, metrics } = await drive({ model, seed, devices, memory: 'loops', most: seed % 2 ? 5000 : 300, cycles: CYCLES });
        compiled += metrics.compiledCycles;
        invalidations += metrics.invalidations;
        deviceExits += (seen.get(ExitReason.DeviceRead) ?? 0) + (seen.get(ExitReason.DeviceWrite) ?? 0);
      }
      // It really ran compiled code, the code really changed under it, the devices were really used.
      expect(compiled).toBeGreaterThan(4 * CYCLES * 0.1);
      expect(invalidations).toBeGreaterThan(0);
      if (devices) expect(deviceExits).toBeGreaterThan(40);
    });

    it(`64 KiB of random bytes as code (every opcode, wild stacks, RTI, BRK), ${where}: identical after every run`, async () => {
      let compiled = 0;
      for (const seed of [5, 6]) {
        const { metrics } = await drive({ model, seed, devices, memory: 'random', most: seed % 2 ? 2000 : 50, cycles: 50_000 });
        compiled += metrics.compiledCycles;
      }
      expect(compiled).toBeGreaterThan(5_000);
    });
  }
});
