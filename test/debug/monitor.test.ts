// The monitor driven by scripts, its output compared with expected
// transcripts: py65mon's formats (the register line, mem, disassembly),
// VICE's commands, stepping backwards, one-line errors.

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { buildFixtures, hasCl65 } from './fixtures.ts';

const fixtures = join(process.cwd(), 'test/debug/fixtures');

async function monitor(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['monitor', ...args], { stdout: (t) => (out += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: (t) => (err += t), stdin });
  return { code, out, err };
}

describe('hyper6502 monitor', () => {
  it('runs a command file on an assembly program as the expected transcript says', async () => {
    const r = await monitor(['--start', '0x600', '--commands', join(fixtures, 'loop.commands'), join(fixtures, 'loop.s')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(fixtures, 'loop.transcript'), 'utf8'));
  });

  it("prints py65mon's register line and memory format", async () => {
    const r = await monitor([], 'a 0600 lda #$42\nmem 0600:0601\nr pc=0602\n');
    expect(r.out).toContain('$0600  a9 42     LDA #$42\n');
    expect(r.out).toContain('0600:  a9  42\n');
    expect(r.out).toContain('        PC  AC XR YR SP NV-BDIZC\n6502: 0602 00 00 00 fd 00100100\n');
  });

  it('answers bad input with one line and goes on', async () => {
    const r = await monitor([], 'mem zz:1\nr q=1\nfill\nmem 10:10\n');
    const errors = r.out.split('\n').filter((l) => l.startsWith('Error: '));
    expect(errors).toEqual(['Error: unknown name "zz" at "zz"', 'Error: invalid register: q', 'Error: fill needs a range and data']);
    expect(r.out).toContain('0010:  00\n');
  });

  it('says which option or file is wrong', async () => {
    await expect(monitor(['--machine', 'nope', 'x.bin'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('cannot read x.bin: no such file') });
    await expect(monitor(['--machine', 'nope'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('no machine "nope"') });
    await expect(monitor(['--commands', '/nonexistent/cmds'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('cannot read /nonexistent/cmds: no such file') });
  });

  it.runIf(hasCl65)('debugs a cc65 C program by its source lines and function names', async () => {
    const dir = buildFixtures();
    const r = await monitor([join(dir, 'sum.prg')], 'break sum.c:12 if a == 1\ncontinue\nbt\nd _square _square+2\nrcontinue\ncontinue\ncontinue\n');
    expect(r.out).toContain('Breakpoint 0 added at $');
    expect(r.out).toMatch(/\.bt\n#0  \$[0-9a-f]{4}  add  sum\.c:12\n#1  \$[0-9a-f]{4}  main  sum\.c:18\n/);
    expect(r.out).toMatch(/; sum\.c:4\nsquare:\n\$[0-9a-f]{4}  20 [0-9a-f ]+JSR pushax\n/);
    expect(r.out).toMatch(/\.rcontinue\nAt the start of the history\n/);
    expect(r.out).toContain('t=14\nProgram exited with status 14\n');
  });
});
