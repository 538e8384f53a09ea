// The command line's options as users type them: --help for every command
// and `help COMMAND`, every parser mistake as one plain line (unknown
// options, missing values, negative numbers), sim65's own short options
// (checked against sim65 itself where cc65 is installed), --vms bounded to
// what the machine can start, and endless or oversized files refused by
// their size before anything is read.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';
import { vmLimit } from '../../src/cli/vms.ts';

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-options-'));
const programs = join(import.meta.dirname, '../programs');

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** One line on stderr, exit status 2, nothing on stdout. */
function oneLine(r: { code: number; stdout: string; stderr: string }, message: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^hyper6502: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
}

const COMMANDS = ['run', 'machines', 'disasm', 'asm', 'link', 'monitor', 'dap', 'bench', 'serve'];

describe('help', () => {
  it.each(COMMANDS)('%s --help, -h and help %s print the command\'s usage', async (command) => {
    const asked = await cli(command, '--help');
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(new RegExp(`^Usage: hyper6502 ${command}\\b`));
    expect(asked.stdout).toMatch(/-h, --help/);
    expect(await cli(command, '-h')).toEqual(asked);
    expect(await cli('help', command)).toEqual(asked);
  });

  it('hyper6502 --help and help list every command; help of an unknown command is one line', async () => {
    const general = await cli('--help');
    expect(general.code).toBe(0);
    for (const command of COMMANDS) expect(general.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(await cli('help')).toEqual(general);
    oneLine(await cli('help', 'fly'), /unknown command "fly" \(commands: run, machines/);
    oneLine(await cli('--frobnicate'), /unknown option --frobnicate/);
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: hyper6502 <command>/);
  });
});

describe('parser mistakes, each one plain line', () => {
  const prg = join(programs, 'hello.prg');
  it.each([
    [['run', '--max-cycles', '-1', prg], /^hyper6502: --max-cycles: -1 is negative \(give 0 or more\)\n$/],
    [['run', '-x', '-1', prg], /--max-cycles: -1 is negative/],
    [['run', '--start', '-1', 'nothing.bin'], /^hyper6502: --start: -1 is negative \(give 0 to 65535\)\n$/], // before the file is read
    [['run', '--vms', '-1', prg], /--vms: -1 is negative \(give 1 or more\)/],
    [['run', '--workers', '-2', prg], /--workers: -2 is negative/],
    [['run', '--clock', '0', prg], /--clock: 0 is out of range \(give 1 or more\)/],
    [['run', '--max-cycles'], /^hyper6502: --max-cycles needs a value\n$/],
    [['run', '--load', '--stats', prg], /--load needs a value \(--stats is an option; write --load=--stats if it is the value\)/],
    [['run', '--stats=yes', prg], /--stats takes no value \(got --stats=yes\)/],
    [['run', '-cq', prg], /run: unknown option -q \(in -cq\)/],
    [['run', '--fly', prg], /run: unknown option --fly \(hyper6502 run --help lists the options\)/],
    [['disasm', '--count', '-3', prg], /--count: -3 is negative/],
    [['disasm', '--org'], /--org needs a value/],
    [['asm', '--fly', 'x.s'], /asm: unknown option --fly/],
    [['link', '-Q'], /link: unknown option -Q/],
    [['machines', '--xml'], /machines: unknown option --xml/],
    [['bench', '--vms', '-8'], /--vms: -8 is negative/],
    [['serve', '--port', '-1'], /--port: -1 is negative/],
    [['serve', '--port', '70000'], /--port: 70000 is out of range \(give 0 to 65535\)/],
    [['serve', '--bind', 'x'], /serve: unknown option --bind/],
    [['monitor', '--frob'], /monitor: unknown option --frob/],
    [['dap', '--port'], /^hyper6502: --port needs a value\n$/],
    [['dap', 'prog.prg'], /dap takes no arguments/],
  ])('%j', async (argv, message) => {
    oneLine(await cli(...argv), message);
  });

  it('--vms and --workers are bounded to what this machine can start', async () => {
    const limit = vmLimit();
    expect(limit).toBeGreaterThan(1000); // 10,000 VMs fit in well under 2 GiB
    oneLine(await cli('run', '--vms', String(limit + 1), join(programs, 'hello.prg')), new RegExp(`--vms: ${limit + 1} is more VMs than this machine can start \\(at most ${limit}, as many as half its memory holds\\)`));
    oneLine(await cli('bench', '--vms', '100000000'), /more VMs than this machine can start/);
    oneLine(await cli('run', '--workers', '100000', join(programs, 'hello.prg')), /--workers: 100000 is more worker threads than this machine can start/);
  });
});

describe('endless and oversized files are refused before they are read', () => {
  const fifo = join(dir, 'fifo');
  const hasFifo = spawnSync('mkfifo', [fifo]).status === 0;
  const big = join(dir, 'big.bin');
  writeFileSync(big, new Uint8Array(0x10000 + 13));
  const cfg = join(dir, 'ok.cfg');
  writeFileSync(cfg, 'MEMORY { RAM: start = $200, size = $100; } SEGMENTS { CODE: load = RAM; }\n');
  const endless = ['/dev/zero', ...(hasFifo ? [fifo] : [])];
  it.each(endless.flatMap((f) => [
    [['run', f]],
    [['disasm', f]],
    [['asm', f]],
    [['link', '-C', f, 'x.o']],
    [['link', '-C', cfg, f]],
    [['run', '--machine', 'py65', '--rom', `${f}@0xF000`, join(programs, '../../examples/timer.s')]],
    [['run', '--machine', f]],
  ]))('%j', async (argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hyper6502: [^\n]*(not a regular file|no such file)[^\n]*\n$/);
  });

  it('a file over the size a command reads, by its size', async () => {
    oneLine(await cli('run', big), /big\.bin is 65549 bytes, more than 65548/);
    oneLine(await cli('disasm', big), /big\.bin is 65549 bytes, more than 65548/);
  });
});

const sim65 = spawnSync('sim65', ['--version'], { encoding: 'utf8' }).status === 0 ? 'sim65' : null;
describe('sim65\'s options, as sim65 spells them', () => {
  it('-c prints the cycles, -x stops the program with 126, -v says where it loaded, -V the version', async () => {
    const hello = join(programs, 'hello.prg');
    const c = await cli('run', '-c', hello);
    expect(c.stdout).toMatch(/^hello from assembly\n\d+ cycles\n$/);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(5);
    const x = await cli('run', '-x', '1000', join(programs, 'qsort.prg'));
    expect(x.code).toBe(126);
    const v = await cli('run', '-v', hello);
    expect(v.stderr).toBe("Loaded '" + hello + "' at $0200-$02DF\nFile version: 2\nReset: $0200\nPVExit ($05)\n");
    expect((await cli('run', '-V')).stdout).toMatch(/^hyper6502 \d+\.\d+\.\d+\n$/);
    // Grouped as getopt groups them, and options after FILE still go to the program.
    const grouped = await cli('run', '-cv', join(programs, 'args.prg'), '-c', '-x');
    expect(grouped.stdout).toMatch(/^argc = 3\nargv\[1\] = "-c"\nargv\[2\] = "-x"\n\d+ cycles\n$/);
    expect(grouped.stderr).toMatch(/^Loaded '.*args\.prg' at \$0200-\$[0-9A-F]{4}\nFile version: 2\nReset: \$0200\nPVExit \(\$02\)\n$/);
  });

  it.skipIf(!sim65)(`gives what sim65 gives for the same options${sim65 ? '' : ' (SKIPPED: sim65 not installed: apt-get install cc65)'}`, async () => {
    for (const [options, program, args] of [
      [['-c'], 'hello.prg', []],
      [['-x', '1000'], 'qsort.prg', []],
      [['-v'], 'args.prg', ['a', 'bb']],
      [['--cycles', '-v'], 'exitcode.prg', []],
    ] as const) {
      const path = join(programs, program);
      const theirs = spawnSync(sim65!, [...options, path, ...args], { encoding: 'latin1' });
      const ours = await cli('run', ...options, path, ...args);
      expect(ours.code, `${options.join(' ')} ${program}`).toBe(theirs.status);
      // The same output, the cycle count where sim65 prints it (its count differs by sim65's own timing errors: see README).
      const counted = (s: string) => s.replace(/^\d+ cycles$/m, 'N cycles');
      expect(counted(ours.stdout)).toBe(counted(theirs.stdout));
      // What -v says, as sim65 says it.
      const firstLines = (s: string) => s.split('\n').filter((l) => /^(Loaded|File version|Reset|PVExit)/.test(l));
      expect(firstLines(ours.stderr)).toEqual(firstLines(theirs.stderr));
    }
  });

  const make = spawnSync('make', ['--version']).status === 0;
  it.skipIf(!make)(`works as $(SIM65) in a Makefile${make ? '' : ' (SKIPPED: make not installed)'}`, () => {
    const bin = join(import.meta.dirname, '../../src/cli/main.ts');
    const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
    writeFileSync(join(dir, 'Makefile'), `SIM65 = ${tsx} ${bin} run\ntest:\n\t$(SIM65) -c -x 100000000 ${join(programs, 'printf.prg')}\n`);
    const out = execFileSync('make', ['-s', '-C', dir, 'test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/^int: 0 -32768 32767 65535\n/);
  });
});
