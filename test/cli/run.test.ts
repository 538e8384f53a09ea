// `hyper6502 run`: options, statistics, and one-line errors for bad input.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-cli-'));

async function cli(...argv: string[]) {
  let stdout = '', stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

function file(name: string, bytes: number[] | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, Uint8Array.from(bytes));
  return path;
}

// LDX #5; loop: DEX; BNE loop; JMP * (at $0205)
const countdown = [0xa2, 0x05, 0xca, 0xd0, 0xfd, 0x4c, 0x05, 0x02];

describe('hyper6502 run', () => {
  it('runs to a self-loop and prints the statistics as one JSON line', async () => {
    const prog = file('countdown.bin', countdown);
    const r = await cli('run', prog, '--load', '$0200', '--start', '0x200', '--stop-on-self-loop', '--stats');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const stats = JSON.parse(lines[0]);
    expect(Object.keys(stats)).toEqual(['reason', 'pc', 'a', 'x', 'y', 's', 'p', 'cycles', 'instructions', 'seconds', 'mhz']);
    // LDX 2 + 5 x DEX 2 + 4 taken BNE x 3 + 1 untaken BNE x 2 + JMP 3
    expect(stats).toMatchObject({ reason: 'self-loop', pc: 0x0205, x: 0, cycles: 2 + 10 + 12 + 2 + 3, instructions: 1 + 5 + 5 + 1 });
  });

  it('starts at the reset vector by default and stops at --max-cycles', async () => {
    const image = new Uint8Array(0x10000);
    image.set([0xe8, 0x4c, 0x00, 0x30], 0x3000); // INX; JMP $3000
    image.set([0x00, 0x30], 0xfffc);
    const r = await cli('run', file('full.bin', image), '--max-cycles', '1000', '--stats');
    const stats = JSON.parse(r.stderr);
    expect(stats.reason).toBe('max-cycles');
    expect(stats.cycles).toBeGreaterThanOrEqual(1000);
    expect(stats.cycles).toBeLessThan(1005);
    expect(stats.pc >= 0x3000 && stats.pc <= 0x3003).toBe(true);
  });

  it('reports a JAM and runs the 65C02 when asked', async () => {
    expect(JSON.parse((await cli('run', file('jam.bin', [0xe8, 0x02]), '--start', '0', '--stats')).stderr).reason).toBe('jam');
    const stp = await cli('run', file('stp.bin', [0xdb]), '--start', '0', '--cpu', '65C02', '--stats');
    expect(JSON.parse(stp.stderr).reason).toBe('stp');
  });

  const x = file('x.bin', countdown);
  it.each([
    [['run', join(dir, 'missing.bin')], /cannot read .*missing\.bin: no such file/],
    [['run', '--frobnicate', join(dir, 'missing.bin')], /^hyper6502: run: unknown option --frobnicate \(hyper6502 run --help lists the options\)\n$/],
    [['run', dir], /it is a directory/],
    [['run'], /run needs a FILE/],
    [['run', x, x], /run takes one FILE, got 2/],
    [['run', x, '--frobnicate'], /^hyper6502: run: unknown option --frobnicate \(hyper6502 run --help lists the options\)\n$/],
    [['run', x, '--load', 'banana'], /--load: "banana" is not a number/],
    [['run', x, '--start', '$10000'], /--start: \$10000 is out of range/],
    [['run', x, '--cpu', 'z80'], /--cpu: unknown CPU "z80"/],
    [['run', x, '--fs-root', '.'], /--fs-root applies to sim65 programs only/],
    [['fly'], /unknown command "fly"/],
  ])('rejects %j with one line naming the problem', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('runs a sim65 program as sim65 does: its arguments, its output, its exit status', async () => {
    const prog = join(import.meta.dirname, '../programs/args.prg');
    const r = await cli('run', '--cycles', prog, 'one', '--stats', '-x');
    expect(r.stdout).toMatch(/^argc = 4\nargv\[1\] = "one"\nargv\[2\] = "--stats"\nargv\[3\] = "-x"\n\d+ cycles\n$/); // the cycles after the output, as sim65
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
  });

  it('feeds a sim65 program its stdin and stops it at --max-cycles with status 126', async () => {
    const stdin = join(import.meta.dirname, '../programs/stdin.prg');
    let out = '';
    const code = await main(['run', stdin], { stdout: (t) => (out += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: () => {}, stdin: 'ab c\n' });
    expect(out).toBe('AB C\n1 lines, 2 words, 5 bytes\n');
    expect(code).toBe(0);
    const capped = await cli('run', '--max-cycles', '1000', join(import.meta.dirname, '../programs/qsort.prg'));
    expect(capped.code).toBe(126);
    expect(capped.stderr).toMatch(/stopped after 100\d cycles \(--max-cycles\)/);
  });

  it('--trace prints each instruction with its registers and cycle count', async () => {
    const r = await cli('run', '--trace', join(import.meta.dirname, '../programs/hello.prg'));
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('0200  D8        CLD            A=00 X=00 Y=00 S=FF P=nv-bdizc CYC=0');
    expect(lines[1]).toMatch(/^0201  A2 FF     LDX #\$FF .* CYC=2$/);
    expect(lines.length).toBeGreaterThan(50);
    expect(r.stdout).toBe('hello from assembly\n');
  });

  it('runs several copies side by side with --vms, each line prefixed', async () => {
    const r = await cli('run', '--vms', '2', '--workers', '0', join(import.meta.dirname, '../programs/args.prg'), 'z');
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['[vm1] argc = 2', '[vm1] argv[1] = "z"', '[vm2] argc = 2', '[vm2] argv[1] = "z"']);
    expect(r.code).toBe(1);
    expect((await cli('run', '--vms', '0', join(import.meta.dirname, '../programs/args.prg'))).stderr).toMatch(/^hyper6502: --vms: 0 is out of range \(give 1 or more\)\n$/);
    expect((await cli('run', '--vms', '2', '--trace', join(import.meta.dirname, '../programs/args.prg'))).stderr).toMatch(/--trace does not work with --vms/);
  });

  it('runs a ROM on the board with --profile board: the terminal is stdin and stdout', async () => {
    const timer = join(import.meta.dirname, '../../examples/timer.s');
    let out = '';
    const code = await main(['run', '--profile', 'board', '--max-cycles', '2100000', timer], {
      stdout: (t) => (out += typeof t === 'string' ? t : new TextDecoder().decode(t)),
      stderr: () => {},
      stdin: 'hi\r',
    });
    expect(code).toBe(0);
    expect(out).toBe('hyper6502 board: a tick a second at 1 MHz; type to echo\r\nhi\r\ntick 1\r\ntick 2\r\n');
    // A ROM that powers off: LDA #9; STA $C0F0
    const rom = file('off.bin', [0xa9, 0x09, 0x8d, 0xf0, 0xc0, ...new Array(8187).fill(0xea).slice(0, 8192 - 5 - 4), 0x00, 0xe0, 0x00, 0xe0]);
    expect((await cli('run', '--profile', 'board', rom)).code).toBe(9);
    expect((await cli('run', '--profile', 'c64', rom)).stderr).toMatch(/--machine: no machine "c64" \(built in: raw, sim65, easy6502, board, py65, apple1, eater/);
  });

  it('hyper6502 bench reports the MHz of a pool', async () => {
    const r = await cli('bench', '--vms', '2', '--workers', '0', '--seconds', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2 VMs on 1 worker for 1\.\d s: \d+ emulated MHz in all, [\d.]+ MHz per VM\n  worker 0: 2 VMs, \d+ MHz\n$/);
  });

  it('rejects a bad sim65 file and options that do not apply to it', async () => {
    const bad = file('bad.prg', [0x73, 0x69, 0x6d, 0x36, 0x35, 0x07, 0, 0, 0, 2, 0, 2]);
    expect((await cli('run', bad)).stderr).toMatch(/sim65 format version 7 is not supported/);
    const short = file('short.prg', [0x73, 0x69, 0x6d, 0x36, 0x35, 0x02]);
    expect((await cli('run', short)).stderr).toMatch(/header is truncated \(6 of 12 bytes\)/);
    const big = file('big.prg', [0x73, 0x69, 0x6d, 0x36, 0x35, 2, 0, 0, 0x00, 0xff, 0x00, 0xff, ...new Uint8Array(0x100)]);
    expect((await cli('run', big)).stderr).toMatch(/would reach \$FFFF, past \$FFEF/);
    const r = await cli('run', '--load', '0', join(import.meta.dirname, '../programs/args.prg'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--load does not apply/);
  });

  it('rejects an image that does not fit at the load address, and an empty one', async () => {
    const r = await cli('run', file('big.bin', new Uint8Array(0x200)), '--load', '$FF00');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/big\.bin: 512 bytes at \$FF00 run past \$FFFF \(to \$100FF\)/);
    expect((await cli('run', file('empty.bin', []))).stderr).toMatch(/empty\.bin is empty/);
  });
});

const bin = join(import.meta.dirname, '../../dist/cli/main.js');
describe.skipIf(!existsSync(bin))('the installed hyper6502 command', () => {
  it('runs as a process with exit code 0, and 2 on bad input', () => {
    const prog = file('countdown2.bin', countdown);
    const ok = spawnSync(process.execPath, [bin, 'run', prog, '--load', '$200', '--start', '$200', '--stop-on-self-loop', '--stats'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stderr).pc).toBe(0x205);
    const bad = spawnSync(process.execPath, [bin, 'run', join(dir, 'nope.bin')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' })).toMatch(/^hyper6502 \d+\.\d+\.\d+/);
  });
});
