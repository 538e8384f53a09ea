// Idle guests: a loop that waits for input and changes nothing is found out
// (through the device that found no input, or by probing a guest that has
// left the core for nothing in a while) and its time passes without running
// it; registers, memory and cycles are then exactly those the spin reaches.
import { describe, it, expect } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { assemble } from '../../src/asm/assembler.ts';
import type { VmSpec } from '../../src/machine/description.ts';
import { VmHost } from '../../src/hypervisor/vm-host.ts';

function program(source: string, cpu: '6502' | '65c02' = '6502') {
  const r = assemble(source, { cpu, fileName: 'idle-guest.s' });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r;
}

// py65: waits for keys at $F004 (0: none), keeps each at $0300,X; 'q' ends it with BRK.
const POLL = program(`
  .org $0200
        ldx #0
wait:   jsr getc
        beq wait
        sta $0300,x
        inx
        cmp #'q'
        bne wait
        brk
getc:   lda $F004
        rts
`);

// The same, but counting its polls in RAM: busy, not idle.
const COUNTING = program(`
  .org $0200
wait:   inc $10
        bne :+
        inc $11
:       lda $F004
        beq wait
        cmp #'q'
        bne wait
        brk
`);

// The board: keys arrive by the ACIA's receive interrupt into a RAM buffer;
// the main loop looks only at RAM (Ben Eater's BASIC ROM works this way).
// A VIA timer interrupt counts ticks at $20 meanwhile when `ticks` is set.
function irqGuest(ticks: boolean) {
  return program(`
  .org $E000
reset:  ldx #$ff
        txs
        lda #$09            ; ACIA: DTR, receive interrupts on
        sta $C002
        ${ticks ? 'lda #$40\n        sta $C01B\n        lda #$C0\n        sta $C01E\n        lda #$10\n        sta $C014\n        lda #$27\n        sta $C015' : ''}
        cli
main:   jsr size
        beq main
        ldy $01
        lda $0400,y
        inc $01
        cmp #'q'
        bne main
        sta $C0F0           ; power off
size:   lda $00
        sec
        sbc $01
        rts
irq:    pha
        lda $C001           ; ACIA status
        and #$08
        beq timer
        txa
        pha
        ldx $00
        lda $C000
        sta $0400,x
        inc $00
        pla
        tax
        pla
        rti
timer:  lda $C014           ; acknowledge T1
        inc $20
        pla
        rti
  .res $FFFC - *, $EA
  .word reset, irq
`);
}

/** Everything a guest can see, to compare machines. */
function state(m: Machine) {
  const c = m.cpu;
  return { pc: c.pc, a: c.a, x: c.x, y: c.y, s: c.s, p: c.p, cycles: c.cycles, instructions: c.instructions, ram: Buffer.from(c.ram).toString('base64'), out: Buffer.from(m.console.takeOutput()).toString('hex') };
}

async function pair(spec: VmSpec) {
  return { on: await Machine.create(spec), off: await Machine.create(spec) };
}

const py65 = (p: { bytes: Uint8Array; origin: number }): VmSpec => ({ machine: 'py65', program: p.bytes, load: p.origin, start: p.origin });

describe('a guest polling for input', () => {
  it('is idle: the run stops at once, and with the same input at the same cycle it goes on exactly as a spin would', async () => {
    const { on, off } = await pair(py65(POLL));
    for (const key of 'abq') {
      const exit = on.run(1_000_000);
      expect(exit.reason).toBe('idle');
      // The spinning twin runs to the same cycle: the state is the same.
      while (off.cpu.cycles < on.cpu.cycles) off.run(on.cpu.cycles - off.cpu.cycles, { idle: 'off' });
      expect(state(on)).toEqual(state(off));
      on.console.input(key);
      off.console.input(key);
    }
    expect(on.run(1_000_000).reason).toBe('exit');
    expect(off.run(1_000_000, { idle: 'off' }).reason).toBe('exit');
    expect(state(on)).toEqual(state(off));
    expect([...on.cpu.ram.subarray(0x300, 0x303)]).toEqual([0x61, 0x62, 0x71]);
  });

  it('lets its time pass exactly to the end of a budget (a paced guest), without running the spin', async () => {
    const { on, off } = await pair(py65(POLL));
    let reads = 0;
    const io = on.devices.find((d) => d.name === 'io')!;
    const read = io.read!.bind(io);
    io.read = (o, c) => (reads++, read(o, c));
    for (const [at, key] of [[123_457, 'a'], [5_000_001, 'b'], [9_999_999, 'q']] as const) {
      expect(on.run(at - on.cpu.cycles, { idle: 'advance' }).reason).toBe('idle');
      off.run(at - off.cpu.cycles, { idle: 'off' });
      expect(state(on)).toEqual(state(off));
      on.console.input(key);
      off.console.input(key);
    }
    on.run(1000);
    off.run(1000, { idle: 'off' });
    expect(state(on)).toEqual(state(off));
    expect(on.exitCode).toBe(0);
    expect(reads).toBeLessThan(100); // the twin read its input register about 700,000 times
  });

  it('that changes memory as it waits is not idle: it runs as it is', async () => {
    const { on, off } = await pair(py65(COUNTING));
    expect(on.run(200_000).reason).toBe('budget');
    off.run(200_000, { idle: 'off' });
    expect(state(on)).toEqual(state(off));
  });
});

describe('a guest waiting in RAM for its interrupt-driven input', () => {
  it('is found out by probing it, and goes on exactly as the spin would', async () => {
    const guest = irqGuest(false);
    const { on, off } = await pair({ machine: 'board', program: guest.bytes });
    for (const key of 'xyq') {
      expect(on.run(2_000_000).reason).toBe('idle');
      while (off.cpu.cycles < on.cpu.cycles) off.run(on.cpu.cycles - off.cpu.cycles, { idle: 'off' });
      expect(state(on)).toEqual(state(off));
      on.console.input(key);
      off.console.input(key);
    }
    expect(on.run(100_000)).toMatchObject({ reason: 'exit', code: 0x71 });
    expect(off.run(100_000, { idle: 'off' })).toMatchObject({ reason: 'exit', code: 0x71 });
    expect(state(on)).toEqual(state(off));
    expect([...on.cpu.ram.subarray(0x400, 0x403)]).toEqual([0x78, 0x79, 0x71]);
  });

  it('with a timer interrupt due: its time passes to each interrupt, which it takes at the same cycle as the spin', async () => {
    // (The guest's tick counter at $20 is one byte: 2 M cycles are fewer than 256 ticks.)
    const guest = irqGuest(true);
    const { on, off } = await pair({ machine: 'board', program: guest.bytes });
    let instructionsRun = 0;
    const run = on.cpu.run.bind(on.cpu);
    on.cpu.run = (budget) => {
      const before = on.cpu.instructions;
      const reason = run(budget);
      instructionsRun += on.cpu.instructions - before;
      return reason;
    };
    expect(on.run(2_000_000).reason).toBe('budget');
    off.run(2_000_000, { idle: 'off' });
    expect(state(on)).toEqual(state(off));
    expect(on.cpu.ram[0x20]).toBe(off.cpu.ram[0x20]);
    expect(on.cpu.ram[0x20]).toBeGreaterThan(190); // ticks counted, every 10,002 cycles
    // The core ran the interrupt handlers and a little of each wait, not the waits.
    expect(instructionsRun).toBeLessThan(off.cpu.instructions / 10);
    on.console.input('q');
    off.console.input('q');
    on.run(100_000);
    off.run(100_000, { idle: 'off' });
    expect(state(on)).toEqual(state(off));
    expect(on.exitCode).toBe(0x71);
  });
});

describe('idle VMs in a VmHost', () => {
  it('park until input comes, cost nothing meanwhile, and a paced one keeps its clock', async () => {
    const events: string[] = [];
    const host = new VmHost({ onEvent: (e) => events.push(`${e.vm}:${e.type}`) });
    await host.create(py65(POLL), { id: 'free' });
    await host.create(py65(POLL), { id: 'paced', schedule: { clockHz: 1_000_000 } });
    host.start('free');
    host.start('paced');
    host.runRound();
    expect(host.metrics('free').waiting).toBe(true);
    expect(events).toContain('free:waiting');
    const before = host.metrics('free').cycles;
    for (let i = 0; i < 50; i++) host.runRound();
    expect(host.metrics('free').cycles).toBe(before); // parked: not run at all
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) host.runRound();
    host.input('paced', 'q');
    const paced = host.metrics('paced').cycles;
    // It saw the key after about 200 ms of its 1 MHz clock, not at once.
    expect(paced).toBeGreaterThan(150_000);
    expect(paced).toBeLessThan(2_000_000);
  });
});
