// The example programs in examples/: pixels.s (easy6502), timer.s (board),
// hello.c / hello.prg (sim65). Each assembles or builds, runs in its profile
// and does what examples/README.md says; the command line runs them.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, type AsmResult } from '../../src/asm/assembler.ts';
import { Machine } from '../../src/machine/machine.ts';
import { runSim65 } from '../../src/node/run.ts';
import { Easy6502Screen } from '../../src/devices/display.ts';
import { staleHelloFiles } from '../../scripts/build-hello.ts';
import { main } from '../../src/cli/main.ts';
import { hasCa65, ca65Bytes, ca65SkipReason } from '../asm/ca65.ts';

const examples = join(import.meta.dirname, '../../examples');
const path = (name: string) => join(examples, name);

function assembleExample(name: string): AsmResult {
  return assemble(readFileSync(path(name), 'utf8'), { fileName: name });
}

async function cli(argv: string[], stdin?: string) {
  let stdout = '', stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: (t) => (stderr += t), stdin });
  return { code, stdout, stderr };
}

describe('pixels.s (easy6502)', () => {
  const program = assembleExample('pixels.s');

  /** A machine running pixels.s, stopped at the start of its sparkle phase (the bars are drawn). */
  async function atSparkle(seed?: number) {
    const m = await Machine.create({ machine: 'easy6502', program: program.bytes, options: seed === undefined ? {} : { rng: { seed } } });
    m.addBreakpoint(program.labels.sparkle);
    const next = () => {
      const exit = m.run(1_000_000);
      expect(exit).toMatchObject({ reason: 'breakpoint', pc: program.labels.sparkle });
      return exit.cycles;
    };
    return { m, screen: new Easy6502Screen(m.cpu.ram), next };
  }

  it('assembles at $0600, starting at its first byte', () => {
    expect(program.errors).toEqual([]);
    expect(program.ok).toBe(true);
    expect(program.origin).toBe(0x0600);
    expect(program.labels.start).toBe(0x0600);
    expect(program.bytes.length).toBe(79);
  });

  it('draws 16 colour bars, 2 pixels wide, in rows 0-23, scrolled by one colour a frame', async () => {
    const { m, screen, next } = await atSparkle();
    next(); // frame 0
    expect([screen.pixel(0, 0), screen.pixel(1, 0), screen.pixel(2, 0), screen.pixel(5, 12), screen.pixel(30, 23), screen.pixel(31, 23)]).toEqual([0, 0, 1, 2, 15, 15]);
    expect(screen.pixel(0, 24)).toBe(0); // no sparkles yet
    next();
    next(); // frame 2
    expect(m.cpu.ram[0x02]).toBe(2);
    expect([screen.pixel(0, 0), screen.pixel(2, 0), screen.pixel(5, 12), screen.pixel(28, 23), screen.pixel(31, 23)]).toEqual([2, 3, 4, 0, 1]);
    for (let y = 0; y < 24; y++) for (let x = 0; x < 32; x++) expect(screen.pixel(x, y)).toBe(((x >> 1) + 2) & 15);
  });

  it('keeps animating: a frame every 50,000 cycles or so, sparkles of many colours in rows 24-31', async () => {
    const { m, screen, next } = await atSparkle();
    const times = Array.from({ length: 20 }, next);
    const gaps = new Set(times.slice(1).map((t, i) => t - times[i]));
    expect(gaps.size).toBe(1); // the same work every frame
    const [gap] = gaps;
    expect(gap).toBeGreaterThan(45_000);
    expect(gap).toBeLessThan(55_000);
    expect(screen.pixel(0, 0)).toBe(19 & 15);
    const field = [...m.cpu.ram.subarray(0x0500, 0x0600)];
    expect(Math.max(...field)).toBeLessThanOrEqual(15);
    expect(new Set(field).size).toBeGreaterThanOrEqual(12);
    expect(field.filter((c) => c !== 0).length).toBeGreaterThan(100);
    m.removeBreakpoint(program.labels.sparkle);
    expect(m.run(2_000_000).reason).toBe('budget'); // no BRK: it runs until stopped
    expect(screen.pixel(0, 0)).not.toBe(19 & 15);
  });

  it('is deterministic for a given RNG seed', async () => {
    const sparkles = async (seed: number) => {
      const { m, next } = await atSparkle(seed);
      for (let i = 0; i < 10; i++) next();
      return Buffer.from(m.cpu.ram.subarray(0x0200, 0x0600)).toString('hex');
    };
    expect(await sparkles(7)).toBe(await sparkles(7));
    expect(await sparkles(7)).not.toBe(await sparkles(8));
  });
});

describe('timer.s (board)', () => {
  const program = assembleExample('timer.s');
  const BANNER = 'hyper6502 board: a tick a second at 1 MHz; type to echo\r\n';

  async function boot() {
    const out: Array<{ byte: number; cycle: number }> = [];
    const m = await Machine.create({ machine: 'board', program: program.bytes });
    m.console.sink = (bytes) => bytes.forEach((byte) => out.push({ byte, cycle: m.cpu.cycles }));
    const text = () => String.fromCharCode(...out.map((o) => o.byte));
    return { m, out, text };
  }

  it('assembles to an 8 KiB ROM for $E000-$FFFF with its vectors at $FFFA', () => {
    expect(program.errors).toEqual([]);
    expect(program.ok).toBe(true);
    expect(program.origin).toBe(0xe000);
    expect(program.bytes.length).toBe(0x2000);
    const vector = (address: number) => program.bytes[address - 0xe000] | (program.bytes[address - 0xe000 + 1] << 8);
    expect(vector(0xfffa)).toBe(program.labels.nmi);
    expect(vector(0xfffc)).toBe(program.labels.reset);
    expect(vector(0xfffe)).toBe(program.labels.irq);
    expect(program.labels.reset).toBe(0xe000);
  });

  it('takes a VIA timer 1 interrupt every 10,000 cycles', async () => {
    const { m } = await boot();
    m.addBreakpoint(program.labels.irq);
    const entries: number[] = [];
    for (let i = 0; i < 6; i++) {
      const exit = m.run(100_000);
      expect(exit).toMatchObject({ reason: 'breakpoint', pc: program.labels.irq });
      entries.push(exit.cycles);
    }
    for (let i = 1; i < entries.length; i++) expect(Math.abs(entries[i] - entries[i - 1] - 10_000)).toBeLessThanOrEqual(7);
  });

  it('prints a banner, then "tick N" lines 1,000,000 cycles apart', async () => {
    const { m, out, text } = await boot();
    expect(m.run(5_000_000 + 20_000).reason).toBe('budget');
    expect(text()).toBe(BANNER + [1, 2, 3, 4, 5].map((n) => `tick ${n}\r\n`).join(''));
    // When each line's 't' went out: the 100th interrupt, and every 100th after it.
    const starts = out.filter((o, i) => o.byte === 0x74 && out[i - 1]?.byte === 0x0a).map((o) => o.cycle);
    expect(starts).toHaveLength(5);
    expect(starts[0]).toBeGreaterThan(1_000_000);
    expect(starts[0]).toBeLessThan(1_010_000);
    for (let i = 1; i < starts.length; i++) expect(Math.abs(starts[i] - starts[i - 1] - 1_000_000)).toBeLessThanOrEqual(7);
  });

  it('counts on in decimal past 9', async () => {
    const { m, text } = await boot();
    m.run(12_100_000);
    expect(text().split('\r\n').slice(9, 13)).toEqual(['tick 9', 'tick 10', 'tick 11', 'tick 12']);
  });

  it('echoes what is typed, CR as CR LF, between the ticks', async () => {
    const { m, text } = await boot();
    m.run(10_000);
    expect(text()).toBe(BANNER);
    m.console.input('hi there\r');
    m.run(10_000);
    expect(text()).toBe(BANNER + 'hi there\r\n');
    m.run(1_000_000);
    m.console.input('x');
    m.run(10_000);
    expect(text()).toBe(BANNER + 'hi there\r\ntick 1\r\nx');
    expect(m.console.waiting).toBe(0);
  });
});

describe('hello.prg (sim65)', () => {
  const prg = readFileSync(path('hello.prg'));
  const TABLE = [
    '   |  1  2  3  4  5  6  7  8  9',
    '---+---------------------------',
    ...Array.from({ length: 9 }, (_, r) => `${String(r + 1).padStart(2)} |` + Array.from({ length: 9 }, (_, c) => String((r + 1) * (c + 1)).padStart(3)).join('')),
  ].join('\n');
  const expected = (name: string) => `What is your name? Hello, ${name}!\n\nHere is a multiplication table for you:\n\n${TABLE}\n\nGoodbye, ${name}.\n`;

  it('asks for a name, greets, prints a multiplication table and exits 0', async () => {
    let out = '';
    const r = await runSim65(prg, { stdin: 'Ada\n', stdout: (b) => (out += new TextDecoder().decode(b)) });
    expect(r.exitCode).toBe(0);
    expect(out).toBe(expected('Ada'));
    expect(out).toContain(' 9 |  9 18 27 36 45 54 63 72 81\n');
  });

  it('greets a stranger when stdin is empty', async () => {
    let out = '';
    const r = await runSim65(prg, { stdin: '', stdout: (b) => (out += new TextDecoder().decode(b)) });
    expect(r.exitCode).toBe(0);
    expect(out).toBe(expected('stranger'));
  });

  const hasCl65 = spawnSync('cl65', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasCl65)(`is what cl65 builds from hello.c now${hasCl65 ? '' : ' (SKIPPED: cl65 not found on PATH; apt-get install cc65)'}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-examples-'));
    try {
      copyFileSync(path('hello.c'), join(dir, 'hello.c'));
      const build = spawnSync('cl65', ['-t', 'sim6502', '-O', 'hello.c', '-o', 'hello.prg'], { cwd: dir, encoding: 'utf8' });
      expect(build.stderr).toBe('');
      expect(build.status).toBe(0);
      const fresh = readFileSync(join(dir, 'hello.prg'));
      expect(fresh.equals(prg), 'examples/hello.prg is out of date: rebuild it as examples/README.md says').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasCl65)(`hello.s and hello.dbg (the debug info the demo page reads) are what scripts/build-hello.ts makes from hello.c now${hasCl65 ? '' : ' (SKIPPED: cl65 not found on PATH; apt-get install cc65)'}`, () => {
    expect(staleHelloFiles(), 'examples/ is out of date: run `npx tsx scripts/build-hello.ts` and commit the result').toEqual([]);
  });
});

describe.skipIf(!hasCa65)(`the assembly examples are valid ca65${hasCa65 ? '' : ` (${ca65SkipReason})`}`, () => {
  it.each(['pixels.s', 'timer.s'])('%s: ca65 + ld65 give the same bytes', (name) => {
    expect(Buffer.from(ca65Bytes(readFileSync(path(name), 'utf8'))).equals(Buffer.from(assembleExample(name).bytes))).toBe(true);
  });
});

describe('the command line', () => {
  it('hyper6502 run examples/hello.prg', async () => {
    const r = await cli(['run', path('hello.prg')], 'Ada\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^What is your name\? Hello, Ada!\n/);
    expect(r.stdout).toMatch(/Goodbye, Ada\.\n$/);
    expect(r.stderr).toBe('');
  });

  it('hyper6502 asm examples/timer.s and examples/pixels.s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-examples-'));
    try {
      for (const [name, size] of [['timer.s', 0x2000], ['pixels.s', 79]] as const) {
        const out = join(dir, name.replace('.s', '.bin'));
        const r = await cli(['asm', path(name), '-o', out]);
        expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
        const bytes = readFileSync(out);
        expect(bytes.length).toBe(size);
        expect(bytes.equals(Buffer.from(assembleExample(name).bytes))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
