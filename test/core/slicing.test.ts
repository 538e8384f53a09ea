// The same guest with the same interrupt lines at the same cycles gives the
// same run however the host slices it: a property test over random slicings,
// through a Machine (VIA timer and scheduled IRQ/NMI, fast and debug loops)
// and through the bare Cpu (the loop for all-RAM memory maps), on every model.
import { describe, it, expect } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { CoreMemory, ExitReason, type Cpu } from '../../src/core/cpu.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Via6522 } from '../../src/devices/via6522.ts';
import { CPU_MODELS, type CpuModel } from '../../src/isa/opcodes.ts';
import { InterruptSchedule, type LineEvent } from '../helpers/interrupts.ts';

// A guest busy with everything whose interrupt timing differs: indexed
// read-modify-write, branches taken in and across pages and not taken, PLP and
// CLI/SEI flips of I, BRK, a device read that an interrupt may fall within.
// Its IRQ handler acknowledges both sources (a device read of each), and
// both handlers log where they came in.
const GUEST = `
        .org $02e0
start:  lda #$40
        sta $c00b       ; VIA ACR: T1 free-running
        lda #$c0
        sta $c00e       ; VIA IER: T1
        lda #$a7
        sta $c004
        lda #$0b
        sta $c005       ; T1 = $0BA7, started
        ldx #0
        cli
loop:   inc $1000,x
        lda $c00d       ; a device read (VIA IFR), replayed after its exit
        inx
        cpx #$10
        bne skip        ; crosses into page 3
        ldx #0
skip:   lda $1000
        and #$07
        bne noflip
        php             ; flip I through PLP
        pla
        eor #$04
        pha
        plp
noflip: lda $1001
        and #$1f
        bne nobrk
        brk
        .byte $00
nobrk:  lda $1002
        and #$3f
        bne far
        sei
        cli
far:    beq loop        ; not taken here
        jmp loop

        .org $0400
irq:    pha
        txa
        pha
        tya
        pha
        tsx
        lda $0104,x     ; the pushed P
        and #$10
        bne isbrk
        lda $d000       ; acknowledge the scheduled IRQ
        lda $c004       ; and the VIA's timer 1
        inc $20
        jmp log
isbrk:  inc $21
log:    ldy $23
        lda $0105,x     ; the pushed PC, low byte
        sta $1100,y
        inc $23
        pla
        tay
        pla
        tax
        pla
        rti

        .org $0480
nmi:    pha
        txa
        pha
        tya
        pha
        tsx
        ldy $24
        lda $0105,x
        sta $1200,y
        inc $24
        pla
        tay
        pla
        tax
        pla
        rti

        .org $fffa
        .word nmi, start, irq
`;

/** A small seeded generator (mulberry32), so that every run of the test sees the same "random" cases. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function scheduleFor(seed: number, total: number): LineEvent[] {
  const rnd = random(seed);
  const events: LineEvent[] = [];
  for (let i = 0; i < 60; i++) events.push({ cycle: Math.floor(rnd() * total), line: 'irq' });
  for (let i = 0; i < 25; i++) events.push({ cycle: Math.floor(rnd() * total), line: 'nmi' });
  return events;
}

const image = (() => {
  const program = assemble(GUEST, { cpu: '6502' });
  if (!program.ok) throw new Error(program.errors.map((e) => e.message).join('\n'));
  const ram = new Uint8Array(0x10000);
  ram.set(program.bytes, program.origin);
  return ram;
})();

async function guest(model: CpuModel, events: LineEvent[], debug: boolean): Promise<Machine> {
  const m = await Machine.fromParts({
    cpu: model,
    image,
    devices: [
      { address: 0xd000, size: 1, device: () => new InterruptSchedule(events) },
      { address: 0xc000, size: 16, device: () => new Via6522() },
    ],
  });
  if (debug) m.addBreakpoint(0xfff0); // nothing reaches it: the debug loop runs
  return m;
}

/** Runs to `total` cycles in slices from `slice()`; the final state, comparable as a whole. */
function runTo(m: Machine, total: number, slice: () => number) {
  while (m.cpu.cycles < total) {
    const exit = m.run(Math.min(slice(), total - m.cpu.cycles));
    if (exit.reason !== 'budget') throw new Error(`the guest stopped: ${exit.reason} ${exit.error?.message ?? ''}`);
  }
  return state(m.cpu, m.devices.map((d) => Array.from(d.save?.() ?? [])));
}

function state(cpu: Cpu, devices: unknown = null) {
  const { pc, a, x, y, s, p, cycles, instructions } = cpu;
  return { pc, a, x, y, s, p, cycles, instructions, irqs: cpu.ram[0x20], brks: cpu.ram[0x21], nmis: cpu.ram[0x24], ram: Buffer.from(cpu.ram).toString('base64'), devices };
}

describe.each(CPU_MODELS)('random slicings on the %s', (model) => {
  const total = 120_000;
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: a machine's run is the same in one call, in random slices, and in the debug loop`, async () => {
      const events = scheduleFor(seed, total);
      const whole = runTo(await guest(model, events, false), total, () => total);
      expect(whole.irqs).toBeGreaterThan(20); // the guest really was interrupted, often
      expect(whole.nmis).toBeGreaterThan(10);
      expect(whole.brks).toBeGreaterThan(10);
      const rnd = random(seed * 7919);
      for (const [debug, most] of [[false, 400], [true, 400], [false, 9]] as const) {
        const sliced = runTo(await guest(model, events, debug), total, () => 1 + Math.floor(rnd() * most));
        expect({ debug, most, ...sliced }).toEqual({ debug, most, ...whole });
      }
    });
  }

  it('a bare Cpu (all pages RAM) given the lines at their cycles runs the same in any slices', async () => {
    const core = await CoreMemory.create();
    const ram = image; // no devices: the VIA set-up and the acknowledgements are plain RAM accesses here
    const events = scheduleFor(9, 60_000).map((e, i) => ({ ...e, on: e.line === 'nmi' || i % 2 === 0 }));
    events.sort((a, b) => a.cycle - b.cycle);
    const drive = (cut: () => number) => {
      const cpu = core.cpu(0, model);
      cpu.ram.set(ram);
      cpu.pc = 0x02e0;
      let next = 0;
      while (cpu.cycles < 60_000) {
        const due = next < events.length ? events[next].cycle : Infinity;
        expect(cpu.run(Math.max(1, Math.min(cut(), due - cpu.cycles, 60_000 - cpu.cycles)))).toBe(ExitReason.Budget);
        // Like a device ticked after the run: the lines change at their own cycles.
        for (; next < events.length && events[next].cycle <= cpu.cycles; next++) {
          const e = events[next];
          if (e.line === 'nmi') cpu.nmi(e.cycle);
          else cpu.setIrq(0, e.on!, e.cycle);
        }
      }
      return state(cpu);
    };
    const whole = drive(() => 60_000);
    expect(whole.nmis).toBeGreaterThan(5);
    const rnd = random(77);
    for (const most of [3, 50, 700]) expect({ most, ...drive(() => 1 + Math.floor(rnd() * most)) }).toEqual({ most, ...whole });
  });
});
