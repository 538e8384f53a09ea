// The command line with machines: `hyper6502 machines`, `run --machine`
// with a built-in machine, a JSON description and ROM images, and the
// console as a user has it: piped input that is never dropped, a terminal in
// raw mode (through a pseudo-terminal), Ctrl-A x, SIGINT with --stats.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { guestsDir, guestsPath, guestsSkipReason } from '../helpers/guests.ts';

const bin = join(import.meta.dirname, '../../dist/cli/main.js');
const present = guestsDir() !== null;
const skipNote = present ? '' : ` (${guestsSkipReason})`;
const ehbasic = join(guestsPath, 'ehbasic/ehbasic.bin');

async function cli(argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += typeof t === 'string' ? t : new TextDecoder('latin1').decode(t)), stderr: (t) => (stderr += t), stdin });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-machines-cli-'));
const file = (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('hyper6502 machines', () => {
  it('lists every built-in machine with its memory map and devices', async () => {
    const r = await cli(['machines']);
    expect(r.code).toBe(0);
    for (const name of ['raw', 'sim65', 'easy6502', 'board', 'py65', 'apple1', 'eater']) expect(r.stdout).toMatch(new RegExp(`^${name}: `, 'm'));
    expect(r.stdout).toContain('  $D010-$D013  pia6821 "pia"');
    expect(r.stdout).toContain('  $FF00-$FFFF  ROM (needs the Woz Monitor ROM (--rom wozmon.bin@0xFF00))');
    expect(r.stdout).toContain('  $5000-$5003  acia6551 "acia" (console)');
    expect((await cli(['machines', 'vic20'])).stderr).toMatch(/^hyper6502: no machine "vic20"/);
  });

  it('gives a description as JSON that run --machine takes back', async () => {
    const r = await cli(['machines', 'py65', '--json']);
    const spec = JSON.parse(r.stdout);
    expect(spec.devices[0]).toEqual({ type: 'py65mon-io', id: 'io', address: 0xf001, options: { keyAvailable: true } });
    spec.name = 'mine';
    spec.devices[0].address = '$E001'; // a py65 with its I/O moved: a description of one's own
    const json = file('mine.json', JSON.stringify(spec));
    // LDA #'Y'; STA $E001; BRK
    const prog = file('y.bin', Uint8Array.from([0xa9, 0x59, 0x8d, 0x01, 0xe0, 0x00]));
    expect(await cli(['run', '--machine', json, '--load', '0x0200', '--start', '0x0200', prog])).toEqual({ code: 0, stdout: 'Y', stderr: '' });
    const bad = file('bad.json', JSON.stringify({ ...spec, devices: [{ type: 'nope' }] }));
    const e = await cli(['run', '--machine', bad, prog]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/^hyper6502: --machine .*bad\.json: devices\[0\]\.type: no device type "nope"/);
  });
});

describe('hyper6502 run --machine', () => {
  it('places --rom images read-only and refuses what does not fit, naming it', async () => {
    // An Apple 1 "ROM" that prints A and waits: LDA #$A7; STA $D013 (DSPCR); LDA #$C1; STA $D012; JMP *
    const rom = new Uint8Array(256);
    rom.set([0xa9, 0xa7, 0x8d, 0x13, 0xd0, 0xa9, 0xc1, 0x8d, 0x12, 0xd0, 0x4c, 0x0a, 0xff]);
    rom.set([0x00, 0xff], 0xfc);
    const woz = file('mini-woz.bin', rom);
    expect(await cli(['run', '--machine', 'apple1', '--rom', `${woz}@0xFF00`, '--max-cycles', '1000'])).toEqual({ code: 0, stdout: 'A', stderr: '' });
    const cases: Array<[string[], RegExp]> = [
      [['--rom', woz], /--rom .*mini-woz\.bin: write IMAGE@ADDR/],
      [['--rom', `${woz}@0xFFF0`], /--rom .*: 256 bytes at \$FFF0 run past \$FFFF/],
      [['--rom', `${join(dir, 'none.bin')}@0xFF00`], /cannot read ROM image .*none\.bin: no such file/],
      [['--rom', `${woz}@0xD000`], /load\[0\]: 256 bytes at \$D000 reach \$D000, where the machine has no memory/],
      [[], /needs the Woz Monitor ROM/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['run', '--machine', 'apple1', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('refuses a FIFO, a directory and /dev/zero before reading them', async () => {
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    expect((await cli(['run', join(dir, 'fifo')])).stderr).toMatch(/cannot read .*fifo: not a regular file/);
    expect((await cli(['run', dir])).stderr).toMatch(/it is a directory/);
    expect((await cli(['run', '/dev/zero'])).stderr).toMatch(/not a regular file/);
    expect((await cli(['run', '--machine', 'apple1', '--rom', '/dev/zero@0xFF00'])).stderr).toMatch(/ROM image \/dev\/zero: not a regular file/);
  });

  it.skipIf(!present)(`keeps every byte of a long program piped into BASIC, and ends when the guest has read it all${skipNote}`, () => {
    const lines = Array.from({ length: 500 }, (_, i) => `${10 * (i + 1)} REM LINE ${i + 1} OF A PROGRAM LONGER THAN ANY INPUT QUEUE`);
    const input = `C\r\r${lines.join('\n')}\nLIST\n`;
    expect(input.length).toBeGreaterThan(11_600);
    const r = spawnSync(process.execPath, [bin, 'run', '--machine', 'py65', '--load', '0xC000', ehbasic], { input, encoding: 'latin1', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const listed = r.stdout.split('LIST\r\n')[1] ?? '';
    for (const line of lines) expect(listed).toContain(`${line}\r\n`);
  });

  it.skipIf(!present)(`prints --stats when SIGINT ends a run, with status 130${skipNote}`, async () => {
    const child = spawn(process.execPath, [bin, 'run', '--machine', 'py65', '--load', '0xC000', ehbasic, '--stats'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // A BASIC loop that never ends, fed through the pipe; then Ctrl-C from outside.
    child.stdin.write('C\r\r10 GOTO 10\rRUN\r');
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const status = await new Promise((r) => child.on('exit', r));
    expect(status).toBe(130);
    expect(JSON.parse(stderr.trim()).reason).toBe('interrupted');
  });
});

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
describe.skipIf(!hasScript)(`on a terminal${hasScript ? '' : ' (SKIPPED: script(1) from util-linux not found)'}`, () => {
  /** Runs the CLI on a pseudo-terminal (script(1)), typing `keys` one chunk at a time; returns what the terminal showed. */
  async function onTerminal(args: string[], keys: string[]): Promise<{ screen: string; status: number | null }> {
    const command = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d.toString('latin1')));
    for (const k of keys) {
      await new Promise((r) => setTimeout(r, 400));
      child.stdin.write(k);
    }
    const status = await new Promise<number | null>((r) => child.on('exit', r));
    return { screen, status };
  }

  // Echoes each key it reads, as a monitor does; prints "!" at CR.
  const echo = assemble(`
  .org $0200
wait:   lda $F004
        beq wait
        cmp #$0D
        beq bang
        sta $F001
        jmp wait
bang:   lda #'!'
        sta $F001
        jmp wait
`, { fileName: 'echo.s' }).bytes;

  it('sends keys as they are typed, echoed once (by the guest), Enter as the machine\'s CR; Ctrl-A x leaves', async () => {
    const prog = file('echo.bin', echo);
    const { screen, status } = await onTerminal(['run', '--machine', 'py65', '--load', '0x0200', '--start', '0x0200', prog, '--stats'], ['ab', 'c', '\r', '\x03', '\x01x']);
    expect(status).toBe(0);
    expect(screen).toContain('abc!');
    expect(screen).not.toContain('aabbcc'); // no double echo: the terminal is raw
    expect(screen).toContain('"reason":"quit"');
  });

  it('the board in real time: CR LF line ends (never CR CR LF), each key echoed once, Ctrl-A x prints the --stats asked for', async () => {
    const timer = join(import.meta.dirname, '../../examples/timer.s');
    const { screen, status } = await onTerminal(['run', '--machine', 'board', '--clock', '1000000', timer, '--stats'], ['hi', '\r', '\x01x']);
    expect(status).toBe(0);
    expect(screen).toContain('type to echo\r\n');
    expect(screen).toContain('hi\r\n');
    expect(screen).not.toMatch(/\r\r\n/);
    expect(screen).not.toContain('hhii');
    expect(screen).toMatch(/\{"reason":"quit",[^\n]*"cycles":\d+/);
  });

  it('Ctrl-C ends a sim65 program that reads the terminal with status 130, printing the --stats asked for', async () => {
    const stdin = join(import.meta.dirname, '../programs/stdin.prg');
    const { screen, status } = await onTerminal(['run', '--stats', stdin], ['abc\r', '\x03']);
    expect(status).toBe(130);
    expect(screen).toContain('ABC\r\n');
    expect(screen).toMatch(/\{"reason":"interrupted",[^\n]*\}\r\n/);
  });
});
