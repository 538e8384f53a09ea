// cc65 programs (test/programs) run unmodified on hyper6502: stdout and exit
// status equal sim65's, and so does the cycle count once sim65 2.19's two
// timing errors are accounted for (test/helpers/sim65-timing.ts).
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, mkdirSync, symlinkSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROGRAMS, type TestProgram } from '../programs/programs.ts';
import { runSim65 } from '../../src/node/run.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Sim65Host } from '../../src/devices/sim65.ts';
import { SandboxFs } from '../../src/node/sandbox-fs.ts';
import { sim65Timing } from '../helpers/sim65-timing.ts';

const dir = new URL('../programs/', import.meta.url).pathname;
const expected: Record<string, { stdout: string; exitCode: number; cycles: number }> = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).programs;
const prg = (p: TestProgram) => new Uint8Array(readFileSync(join(dir, `${p.name}.prg`)));
const sandbox = () => mkdtempSync(join(tmpdir(), 'hyper6502-fs-'));

async function run(p: TestProgram, fsRoot?: string) {
  let stdout = '';
  const r = await runSim65(prg(p), {
    name: `${p.name}.prg`,
    args: p.args,
    stdin: p.stdin ?? '',
    stdout: (b) => (stdout += new TextDecoder('latin1').decode(b)),
    fsRoot: p.files ? (fsRoot ?? sandbox()) : undefined,
  });
  return { ...r, stdout };
}

describe('cc65 programs give what sim65 gives', () => {
  for (const p of PROGRAMS.filter((p) => p.sim65 !== false)) {
    it(`${p.name} (${p.target}): stdout, exit status and cycles`, async () => {
      const want = expected[p.name];
      const r = await run(p);
      expect(r.stdout).toBe(want.stdout);
      expect(r.exitCode).toBe(want.exitCode);

      const machine = await Machine.create({ machine: 'sim65', program: prg(p), name: `${p.name}.prg`, args: p.args ?? [] }, { services: p.files ? { fs: new SandboxFs(sandbox()) } : {} });
      machine.console.input(p.stdin ?? '');
      machine.console.closeInput();
      const timing = await sim65Timing(machine);
      expect(timing.ours).toBe(r.cycles);
      expect(timing.sim65, `ours ${timing.ours}`).toBe(want.cycles);
    });
  }
});

describe('stdin as a stream', () => {
  it('waits for input that arrives later, then reads to the end', async () => {
    const { PassThrough } = await import('node:stream');
    const stdin = new PassThrough();
    let stdout = '';
    const running = runSim65(prg(PROGRAMS.find((p) => p.name === 'stdin')!), { stdin, stdout: (b) => (stdout += new TextDecoder().decode(b)) });
    setTimeout(() => stdin.write('one two\n'), 20);
    setTimeout(() => stdin.end('three\n'), 60);
    const r = await running;
    expect(stdout).toBe('ONE TWO\nTHREE\n2 lines, 3 words, 14 bytes\n');
    expect(r.exitCode).toBe(0);
  });
});

describe('the file sandbox', () => {
  it('refuses paths that leave the root: .., absolute paths, symbolic links out', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hyper6502-outside-'));
    const root = join(outside, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'escape-target.txt'), 'secret');
    writeFileSync(join(root, 'inside.txt'), 'fine');
    symlinkSync(outside, join(root, 'link-out'));
    const p = PROGRAMS.find((p) => p.name === 'escape')!;
    const r = await run(p, root);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      '../escape-target.txt     refused',
      '/etc/passwd              refused',
      'sub/../../escape-target.txt refused',
      'link-out/escape-target.txt refused',
      'inside.txt               OPENED',
      'create outside: refused',
    ]);
    expect(existsSync(join(outside, 'created-outside.txt'))).toBe(false);
    expect(readFileSync(join(outside, 'escape-target.txt'), 'utf8')).toBe('secret');
  });

  it('without --fs-root the guest has stdio only', async () => {
    const p = PROGRAMS.find((p) => p.name === 'fileio')!;
    let stdout = '';
    const r = await runSim65(prg(p), { stdout: (b) => (stdout += new TextDecoder().decode(b)) });
    expect(stdout).toBe('cannot create notes.txt\n');
    expect(r.exitCode).toBe(1);
  });

  it('lseek and remove, the calls of newer cc65 libraries, work in the sandbox', async () => {
    const root = sandbox();
    const r = await run(PROGRAMS.find((p) => p.name === 'newcalls')!, root);
    // open -> fd 3 ('D'), write 10 ('K'), lseek 6 ('G'), read 4 ('E'), close 0 ('A'), remove 0 ('A'), remove again -1 ('-')
    expect(r.stdout).toBe('DKGEAA-6789\n');
    expect(r.exitCode).toBe(0x39);
    expect(readdirSync(root)).toEqual([]);
  });

  it('limits the open files of one guest', async () => {
    const root = sandbox();
    const host = new Sim65Host({ fs: new SandboxFs(root), maxOpenFiles: 4 });
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push((host as unknown as { open(n: string, f: number): number }).open(`f${i}`, 0x13));
    expect(opened).toEqual([3, -1, -1]);
  });
});

