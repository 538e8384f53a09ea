// Machine descriptions as data: a bad one gets one error naming the field
// and nothing is built; a good one builds the same machine in this thread,
// in a worker, from a JSON file, and inside a snapshot.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { checkMachine, resolveSpec, specFromJson, specToJson, DescriptionError, machineNames, type MachineSpec } from '../../src/machine/description.ts';
import { loadMachineFile } from '../../src/node/files.ts';
import { Hypervisor } from '../../src/hypervisor/hypervisor.ts';
import { assemble } from '../../src/asm/assembler.ts';

/** A small machine of a user's own: 32 KiB of RAM, a UART at $8000, ROM at $F000 (8 KiB below unmapped). */
const TINY: MachineSpec = {
  name: 'tiny',
  cpu: '65c02',
  memory: [
    { start: 0x0000, end: 0x7fff, kind: 'ram' },
    { start: 0xf000, end: 0xffff, kind: 'rom' },
  ],
  devices: [{ type: 'acia6551', id: 'uart', address: 0x8000 }],
  console: { device: 'uart', lineEnd: 'cr' },
  program: { end: 0xffff },
};

// Prints what it receives, upper-cased by one: a key 'a' comes back 'b'.
const ECHO_PLUS_ONE = assemble(`
  .setcpu "65C02"
  .org $F000
reset:  lda $8001
        and #$08
        beq reset
        lda $8000
        inc a
        sta $8000
        bra reset
  .res $FFFC - *, $EA
  .word reset, reset
`, { fileName: 'echo.s' }).bytes;

async function errorOf(spec: unknown): Promise<string> {
  try {
    await Machine.create(spec as never);
  } catch (err) {
    expect(err).toBeInstanceOf(DescriptionError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('a bad description', () => {
  it('gets one error naming the field and the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ machine: { ...TINY, devices: [{ type: 'acia6552', address: 0x8000 }] } }, /^devices\[0\]\.type: no device type "acia6552" \(known: acia6551, via6522, pia6821/],
      [{ machine: { ...TINY, memory: [...TINY.memory!, { start: 0x7000, end: 0x80ff, kind: 'ram' }] } }, /^memory\[2\]: \$7000-\$80FF overlaps memory\[0\] \(\$0000-\$7FFF\)/],
      [{ machine: { ...TINY, memory: [{ start: 0, end: 0x1234, kind: 'ram' }] } }, /^memory\[0\]: \$0000-\$1234 must start and end on page edges/],
      [{ machine: TINY, program: new Uint8Array(0x2000) }, /^load\[0\]: 8192 bytes at \$E000 reach \$E000, where the machine has no memory \(its memory: RAM \$0000-\$7FFF, ROM \$F000-\$FFFF\)/],
      [{ machine: { ...TINY, devices: [{ type: 'acia6551', address: 0x8000, options: { baud: 9600 } }] } }, /^devices\[0\]\.options\.baud: acia6551 has no option "baud" \(its options: rts, rtsPort, rtsBit\)/],
      [{ machine: { ...TINY, devices: [{ type: 'rng', options: { seed: -1 } }] } }, /^devices\[0\]\.options\.seed: must be a whole number from 0 to 4294967295, got -1/],
      [{ machine: { ...TINY, console: { device: 'keyboard' } } }, /^console\.device: "keyboard" is not the id of a device \(ids: uart\)/],
      [{ machine: { ...TINY, devices: [{ type: 'acia6551', address: 0xfffe }] } }, /^devices\[0\]\.address: 4 registers at \$FFFE run past \$FFFF/],
      [{ machine: { ...TINY, devices: [{ type: 'via6522', address: 0x8000 }, { type: 'acia6551', address: 0x8008 }] } }, /^devices\[1\]\.address: \$8008-\$800B overlaps devices\[0\] \(via6522, \$8000-\$800F\)/],
      [{ machine: { ...TINY, devices: [{ type: 'hd44780', options: { via: 'via' } }] } }, /^devices\[0\]\.options\.via: "via" is not the id of a device/],
      [{ machine: { ...TINY, cpu: '6510' } }, /^cpu: "6510" is not a CPU model/],
      [{ machine: 'apple1' }, /^memory\[2\]: \$FF00-\$FFFF needs the Woz Monitor ROM \(--rom wozmon\.bin@0xFF00\)/],
      [{ machine: 'c64' }, /^machine: no machine "c64" \(built in: raw, sim65, easy6502, board, py65, apple1, eater\)/],
      [{ machine: 'py65', program: new Uint8Array(10) }, /^load: the py65 machine needs the address the program loads at \(--load ADDR\)/],
      [{ machine: { ...TINY, memory: [{ start: 0, end: 0xff, kind: 'rom', image: { file: 'x.bin' } }] } }, /^memory\[0\]\.image: names a file \(x\.bin\) that was not read/],
      [{ machine: 'board', args: ['x'] }, /^args: only sim65 programs take arguments; the board machine runs none/],
      [{ machine: 'board', options: { lcd: { x: 1 } } }, /^options\.lcd: the board machine has no device "lcd" \(its devices: acia, via, storage, rng, keyboard, power\)/],
      [{ machine: { ...TINY, colour: 'red' } }, /^colour: is not part of a machine description/],
    ];
    for (const [spec, message] of cases) expect(await errorOf(spec)).toMatch(message);
  });

  it('in a JSON file names a missing image file, bad JSON and bad fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-machine-'));
    writeFileSync(join(dir, 'broken.json'), '{ "cpu": "6502", ');
    await expect(loadMachineFile(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json: is not valid JSON/);
    writeFileSync(join(dir, 'missing.json'), JSON.stringify({ memory: [{ start: '$F000', end: '$FFFF', kind: 'rom', image: { file: 'rom.bin' } }] }));
    await expect(loadMachineFile(join(dir, 'missing.json'))).rejects.toThrow(/^memory\[0\]\.image: cannot read image .*rom\.bin: no such file/);
    mkdirSync(join(dir, 'adir'));
    writeFileSync(join(dir, 'dir.json'), JSON.stringify({ memory: [{ start: '$F000', end: '$FFFF', kind: 'rom', image: { file: 'adir' } }] }));
    await expect(loadMachineFile(join(dir, 'dir.json'))).rejects.toThrow(/it is a directory/);
    await expect(loadMachineFile(join(dir, 'nothing.json'))).rejects.toThrow(/cannot read machine description .*nothing\.json: no such file/);
  });
});

describe('a good description', () => {
  it('every built-in machine checks, and lists its memory map', () => {
    expect(machineNames()).toEqual(['raw', 'sim65', 'easy6502', 'board', 'py65', 'apple1', 'eater']);
    for (const name of machineNames()) expect(() => checkMachine(resolveSpec({ machine: name }), { partial: true })).not.toThrow(/not part/);
  });

  it('builds a machine of the user\'s own, which runs and reads its ROM from a JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-machine-'));
    writeFileSync(join(dir, 'echo.rom'), ECHO_PLUS_ONE);
    const json = { ...TINY, memory: [TINY.memory![0], { start: '$F000', end: '$FFFF', kind: 'rom', image: { file: 'echo.rom' } }] };
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(json));
    const spec = await loadMachineFile(join(dir, 'tiny.json'));
    const m = await Machine.create(spec);
    expect(m.cpu.model).toBe('65c02');
    m.run(10_000);
    m.console.input('abc');
    m.run(10_000);
    expect(new TextDecoder().decode(m.console.takeOutput())).toBe('bcd');
    // ROM is read-only; $E000 is unmapped (reads $FF).
    expect(m.busRead(0xe000)).toBe(0xff);
    m.busWrite(0xf000, 0);
    expect(m.cpu.ram[0xf000]).toBe(ECHO_PLUS_ONE[0]);
  });

  it('the closed spec round-trips through JSON and builds the same machine', async () => {
    const closed = resolveSpec({ machine: TINY, program: ECHO_PLUS_ONE });
    const again = specFromJson(specToJson(closed)) as MachineSpec;
    expect(again).toEqual(closed);
    const a = await Machine.create(closed);
    const b = await Machine.create(again);
    expect(Buffer.from(a.cpu.ram).equals(Buffer.from(b.cpu.ram))).toBe(true);
    expect([...a.cpu.pageAttrs]).toEqual([...b.cpu.pageAttrs]);
  });

  it('runs in the Hypervisor on a worker, and a snapshot, a clone and a migration of it carry it', async () => {
    const hv = await Hypervisor.create({ workers: 2 });
    try {
      const vm = await hv.createVm({ machine: TINY, program: ECHO_PLUS_ONE }, { worker: 0 });
      let out = '';
      vm.onOutput((b) => (out += new TextDecoder().decode(b)));
      await vm.start();
      await vm.whenWaiting();
      await vm.input('h');
      await vm.whenWaiting();
      await vm.pause();
      const snapshot = await vm.snapshot();
      const restored = await hv.restoreVm(snapshot);
      expect(restored.worker).toBe(1);
      let out2 = '';
      restored.onOutput((b) => (out2 += new TextDecoder().decode(b)));
      await restored.resume();
      await restored.input('a');
      await restored.whenWaiting();
      const twin = await vm.clone();
      await hv.migrate(vm, 1);
      await vm.resume();
      await vm.input('l');
      await vm.whenWaiting();
      let out3 = '';
      twin.onOutput((b) => (out3 += new TextDecoder().decode(b)));
      await twin.resume();
      await twin.input('z');
      await twin.whenWaiting();
      await new Promise((r) => setTimeout(r, 20));
      expect(out).toBe('im');
      expect(out2).toBe('b');
      expect(out3).toBe('{');
    } finally {
      await hv.close();
    }
  });
});
