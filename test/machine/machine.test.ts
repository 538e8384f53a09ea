// Machines with devices: the board's UART and VIA timer interrupts driven by
// guest programs, storage DMA, easy6502 programs, watchpoints and
// breakpoints, faults that stay inside their machine, determinism.
import { describe, it, expect } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { Easy6502Screen, TextScreen } from '../../src/devices/display.ts';
import { Via6522 } from '../../src/devices/via6522.ts';
import { BlockStorage, MemoryBlockStore, STATUS_RANGE, STATUS_READ_ONLY } from '../../src/devices/storage.ts';
import { Acia6551 } from '../../src/devices/acia6551.ts';
import type { Device } from '../../src/devices/device.ts';

const text = (m: Machine) => new TextDecoder().decode(m.console.takeOutput());
const context = (irq: boolean[] = []) => ({ setIrq: (on: boolean) => void irq.push(on), nmi() {}, cycles: () => 0, ram: new Uint8Array(0x10000), poke() {}, powerOff() {}, idlePoll() {} });

/** A ROM for the board: `code` at $E000, reset to $E000, IRQ to `irq`. */
function rom(code: number[], irq = 0xe000): Uint8Array {
  const image = new Uint8Array(0x2000);
  image.set(code);
  image.set([0x00, 0xe0], 0x1ffc);
  image.set([irq & 0xff, irq >> 8], 0x1ffe);
  return image;
}

// Echoes what the ACIA receives until it gets 'q', then powers off with 'q'.
const ECHO = [
  0xad, 0x01, 0xc0, // E000 LDA $C001   status
  0x29, 0x08, //       E003 AND #$08    receiver full?
  0xf0, 0xf9, //       E005 BEQ $E000
  0xad, 0x00, 0xc0, // E007 LDA $C000   the byte
  0x8d, 0x00, 0xc0, // E00A STA $C000   echo it
  0xc9, 0x71, //       E00D CMP #'q'
  0xd0, 0xef, //       E00F BNE $E000
  0x8d, 0xf0, 0xc0, // E011 STA $C0F0   power off with 'q'
];

// VIA T1 free-running every 1000+2 cycles; the IRQ handler counts to 10 and powers off.
const TIMER = [
  0x78, //             E000 SEI
  0xa9, 0x40, //       E001 LDA #$40
  0x8d, 0x1b, 0xc0, // E003 STA $C01B   ACR: T1 free-running
  0xa9, 0xc0, //       E006 LDA #$C0
  0x8d, 0x1e, 0xc0, // E008 STA $C01E   IER: enable T1
  0xa9, 0xe8, //       E00B LDA #$E8
  0x8d, 0x14, 0xc0, // E00D STA $C014   latch low  (1000 = $03E8)
  0xa9, 0x03, //       E010 LDA #$03
  0x8d, 0x15, 0xc0, // E012 STA $C015   latch high: load and start
  0x58, //             E015 CLI
  0x4c, 0x16, 0xe0, // E016 JMP $E016   wait
  0xad, 0x14, 0xc0, // E019 LDA $C014   IRQ: acknowledge T1
  0xe6, 0x10, //       E01C INC $10
  0xa5, 0x10, //       E01E LDA $10
  0xc9, 0x0a, //       E020 CMP #10
  0xd0, 0x05, //       E022 BNE $E029
  0x8d, 0xf0, 0xc0, // E024 STA $C0F0   power off with 10
  0xea, 0xea, //       E027 NOP NOP
  0x40, //             E029 RTI
];

describe('the board', () => {
  it('echoes terminal input through the ACIA and powers off with an exit code', async () => {
    const m = await Machine.create({ machine: 'board', program: rom(ECHO) });
    expect(m.run(10_000).reason).toBe('idle'); // nothing to read yet: it waits, changing nothing
    m.console.input('hello q');
    const exit = m.run(1_000_000);
    expect(exit).toMatchObject({ reason: 'exit', code: 0x71 });
    expect(text(m)).toBe('hello q');
  });

  it('takes VIA timer interrupts every N+2 cycles', async () => {
    const m = await Machine.create({ machine: 'board', program: rom(TIMER, 0xe019) });
    m.addBreakpoint(0xe019);
    const entries: number[] = [];
    for (;;) {
      const exit = m.run(1_000_000);
      if (exit.reason === 'breakpoint') entries.push(exit.cycles);
      else {
        expect(exit).toMatchObject({ reason: 'exit', code: 10 });
        break;
      }
    }
    expect(entries).toHaveLength(10);
    const gaps = entries.slice(1).map((c, i) => c - entries[i]);
    for (const gap of gaps) expect(Math.abs(gap - 1002)).toBeLessThanOrEqual(3); // the idle JMP is 3 cycles
    expect(entries[9] - entries[0]).toBeGreaterThanOrEqual(9 * 1002 - 3);
    expect(entries[9] - entries[0]).toBeLessThanOrEqual(9 * 1002 + 3);
  });

  it('has a text screen in RAM and unmapped space that reads $FF', async () => {
    // LDA $D000 (unmapped); STA $0400; LDA #'H'; STA $0401; STA $C0F0
    const m = await Machine.create({ machine: 'board', program: rom([0xad, 0x00, 0xd0, 0x8d, 0x00, 0x04, 0xa9, 0x48, 0x8d, 0x01, 0x04, 0x8d, 0xf0, 0xc0]) });
    expect(m.run(1000).reason).toBe('exit');
    expect(m.cpu.ram[0x400]).toBe(0xff);
    expect(new TextScreen(m.cpu.ram, { address: 0x0400, columns: 40, rows: 25 }).lines()[0]).toBe(' H');
  });
});

describe('the VIA alone', () => {
  it('counts T1 down one per cycle and flags it when it passes zero, once in one-shot mode', () => {
    const irq: boolean[] = [];
    const via = new Via6522();
    via.attach(context(irq));
    via.write(14, 0xc0, 0); // enable T1
    via.write(4, 100, 0);
    via.write(5, 0, 10); // N = 100, written at cycle 10: counter holds 100 at cycle 11
    expect(via.read(4, 11)).toBe(100);
    expect(via.read(4, 61)).toBe(50);
    expect(via.nextEvent()).toBe(11 + 101);
    via.tick(111);
    expect(via.read(13, 111) & 0x40).toBe(0);
    via.tick(112);
    expect(via.read(13, 112) & 0xc0).toBe(0xc0);
    expect(irq.at(-1)).toBe(true);
    via.read(4, 113); // reading T1C-L acknowledges
    expect(irq.at(-1)).toBe(false);
    expect(via.nextEvent()).toBe(Infinity); // one-shot: no more
  });

  it('T2 is one-shot; IER masks the line but not the flag; state saves and loads', () => {
    const irq: boolean[] = [];
    const via = new Via6522();
    via.attach(context(irq));
    via.write(8, 10, 0);
    via.write(9, 0, 0);
    via.tick(12);
    expect(via.read(13, 12) & 0x20).toBe(0x20);
    expect(irq.includes(true)).toBe(false);
    const copy = new Via6522();
    copy.attach(context([]));
    copy.load(via.save());
    expect(copy.save()).toEqual(via.save());
  });
});

describe('storage', () => {
  it('moves sectors by DMA and reports errors in its status register', () => {
    const backing = new Uint8Array(4 * 512);
    backing.fill(0xab, 512, 1024);
    const ram = new Uint8Array(0x10000);
    const storage = new BlockStorage(new MemoryBlockStore(backing));
    storage.attach({ ...context(), ram, poke: (a, v) => void (ram[a & 0xffff] = v) });
    storage.write(0, 1); // sector 1
    storage.write(2, 0x00);
    storage.write(3, 0x30); // DMA $3000
    storage.write(4, 1); // read
    expect(storage.read(5)).toBe(0);
    expect(ram[0x3000]).toBe(0xab);
    expect(ram[0x31ff]).toBe(0xab);
    ram.fill(0x5a, 0x3000, 0x3200);
    storage.write(0, 2);
    storage.write(4, 2); // write sector 2
    expect(backing[1024]).toBe(0x5a);
    storage.write(0, 9);
    storage.write(4, 1);
    expect(storage.read(5)).toBe(STATUS_RANGE);
    const ro = new BlockStorage(new MemoryBlockStore(new Uint8Array(512), true));
    ro.attach({ ...context(), ram, poke: (a, v) => void (ram[a & 0xffff] = v) });
    ro.write(4, 2);
    expect(ro.read(5)).toBe(STATUS_READ_ONLY);
    expect(() => new MemoryBlockStore(new Uint8Array(100))).toThrow(/not a whole number of 512-byte sectors/);
  });
});

describe('easy6502 programs', () => {
  it('draw on the 32x32 screen and end at BRK', async () => {
    // The tutorial's first program: three pixels, then BRK.
    const program = [0xa9, 0x01, 0x8d, 0x00, 0x02, 0xa9, 0x05, 0x8d, 0x01, 0x02, 0xa9, 0x08, 0x8d, 0x02, 0x02, 0x00];
    const m = await Machine.create({ machine: 'easy6502', program: Uint8Array.from(program) });
    expect(m.run(1000)).toMatchObject({ reason: 'exit', code: 0, pc: 0x060f });
    const screen = new Easy6502Screen(m.cpu.ram);
    expect([screen.pixel(0, 0), screen.pixel(1, 0), screen.pixel(2, 0), screen.pixel(3, 0)]).toEqual([1, 5, 8, 0]);
    const rgba = new Uint8Array(32 * 32 * 4);
    screen.render(rgba);
    expect([...rgba.subarray(0, 8)]).toEqual([0xff, 0xff, 0xff, 0xff, 0x00, 0xcc, 0x55, 0xff]);
  });

  it('see a fresh random byte at $FE and the last key at $FF', async () => {
    // loop: LDA $FE; STA $0200,X; INX; LDA $FF; CMP #'x'; BNE loop; BRK
    const program = [0xa5, 0xfe, 0x9d, 0x00, 0x02, 0xe8, 0xa5, 0xff, 0xc9, 0x78, 0xd0, 0xf4, 0x00];
    const m = await Machine.create({ machine: 'easy6502', program: Uint8Array.from(program), options: { rng: { seed: 7 } } });
    expect(m.run(5000).reason).toBe('budget');
    m.console.input('x');
    expect(m.run(5000).reason).toBe('exit');
    const drawn = new Set(m.cpu.ram.subarray(0x200, 0x300));
    expect(drawn.size).toBeGreaterThan(20); // many different random bytes
  });
});

describe('debugging a machine', () => {
  it('stops at watchpoints on writes (after) and reads (before), then goes on', async () => {
    // LDA #$42; STA $1234; LDX $1234; STA $C0F0
    const m = await Machine.create({ machine: 'board', program: rom([0xa9, 0x42, 0x8d, 0x34, 0x12, 0xae, 0x34, 0x12, 0x8d, 0xf0, 0xc0]) });
    m.addWatchpoint(0x1234, { read: true, write: true });
    expect(m.run(1000)).toMatchObject({ reason: 'watchpoint', access: 'write', address: 0x1234, value: 0x42, pc: 0xe005 });
    expect(m.cpu.ram[0x1234]).toBe(0x42);
    expect(m.run(1000)).toMatchObject({ reason: 'watchpoint', access: 'read', address: 0x1234, value: 0x42, pc: 0xe005 });
    expect(m.run(1000)).toMatchObject({ reason: 'exit', code: 0x42 });
    expect(m.cpu.x).toBe(0x42);
  });

  it('resumes from a breakpoint without stopping at it again', async () => {
    const m = await Machine.create({ machine: 'board', program: rom([0xe8, 0xe8, 0xe8, 0x4c, 0x00, 0xe0]) }); // INX x3; JMP $E000
    m.addBreakpoint(0xe001);
    expect(m.run(1000)).toMatchObject({ reason: 'breakpoint', pc: 0xe001 });
    expect(m.run(1000)).toMatchObject({ reason: 'breakpoint', pc: 0xe001 });
    expect(m.cpu.x).toBe(4);
    m.removeBreakpoint(0xe001);
    expect(m.run(100).reason).toBe('budget');
  });
});

describe('isolation and determinism', () => {
  it('a device that throws stops only its own machine, with the error', async () => {
    const broken: Device = { name: 'broken', read: () => { throw new Error('device on fire'); } };
    const image = (code: number[]) => {
      const bytes = new Uint8Array(0x200 + code.length);
      bytes.set(code, 0x200);
      return bytes;
    };
    const bad = await Machine.fromParts({ image: image([0xad, 0x00, 0xd0]), startAt: 0x200, devices: [{ address: 0xd000, size: 1, device: broken }] });
    const good = await Machine.fromParts({ image: image([0xe8, 0x4c, 0x00, 0x02]), startAt: 0x200 });
    const exit = bad.run(1000);
    expect(exit.reason).toBe('fault');
    expect(exit.error?.message).toBe('device on fire');
    expect(bad.run(1000).reason).toBe('fault');
    expect(good.run(1000).reason).toBe('budget');
  });

  it('the same description and input give the same machine, cycle for cycle', async () => {
    const results = [];
    for (let i = 0; i < 2; i++) {
      const m = await Machine.create({ machine: 'board', program: rom(ECHO) });
      m.run(5000);
      m.console.input('abcq');
      const exit = m.run(100_000);
      results.push({ exit, out: text(m), ram: Buffer.from(m.cpu.ram).toString('base64'), cycles: m.cpu.cycles });
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('rejects parts that make no sense, naming the problem', async () => {
    await expect(Machine.fromParts({ memory: [{ start: 0x1234, end: 0x2000, kind: 'rom' }] })).rejects.toThrow(/page edges/);
    await expect(Machine.fromParts({ devices: [{ address: 0xfffe, size: 4, device: new Acia6551() }] })).rejects.toThrow(/do not fit below \$10000/);
    await expect(Machine.create({ machine: 'board', program: new Uint8Array(0x3000) })).rejects.toThrow(/reach \$D000, where the machine has no memory/);
    expect(() => new TextScreen(new Uint8Array(0x10000), { address: 0xff00, columns: 40, rows: 25 })).toThrow(/does not fit/);
  });
});
