// `hyper6502 asm`: output formats, listing and symbol files, one-line errors
// for bad input (exit 2), file:line:col lines for errors in the source (exit 1).
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleFile, ASM_USAGE, isAssemblerSource, startAddress } from '../../src/cli/asm.ts';
import { main } from '../../src/cli/main.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { UsageError } from '../../src/cli/args.ts';

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-asm-'));

async function asm(...argv: string[]) {
  let stdout = '', stderr = '';
  const code = await main(['asm', ...argv], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

function source(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const countdown = ' .org $0200\nstart: ldx #5\nloop: dex\n bne loop\n jmp *\n';

describe('hyper6502 asm', () => {
  it('writes a raw binary, by default next to the source', async () => {
    const file = source('countdown.s', countdown);
    const r = await asm(file);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(Array.from(readFileSync(join(dir, 'countdown.bin')))).toEqual([0xa2, 0x05, 0xca, 0xd0, 0xfd, 0x4c, 0x05, 0x02]);
  });

  it('writes a sim65 program, a listing and a symbol file', async () => {
    const file = source('prg.s', countdown);
    const out = join(dir, 'out.prg');
    const r = await asm(file, '-o', out, '--format', 'prg', '--listing', join(dir, 'prg.lst'), '--symbols', join(dir, 'prg.sym'));
    expect(r.code).toBe(0);
    expect(Array.from(readFileSync(out).subarray(0, 13))).toEqual([0x73, 0x69, 0x6d, 0x36, 0x35, 2, 0, 0, 0x00, 0x02, 0x00, 0x02, 0xa2]);
    expect(readFileSync(join(dir, 'prg.lst'), 'utf8')).toContain('0200  A2 05        start: ldx #5');
    expect(readFileSync(join(dir, 'prg.sym'), 'utf8')).toBe('start = $0200\nloop = $0202\n');
  });

  it('--cpu 65c02 and --undocumented choose the instruction set', async () => {
    const cmos = source('cmos.s', ' stz $10\n');
    expect((await asm(cmos, '--cpu', '65C02', '-o', join(dir, 'cmos.prg'), '--format', 'prg')).code).toBe(0);
    expect(readFileSync(join(dir, 'cmos.prg'))[6]).toBe(1); // the sim65 header's CPU byte
    const nmos = source('illegal.s', ' lax $10\n');
    expect((await asm(nmos, '--undocumented')).code).toBe(0);
    expect(Array.from(readFileSync(join(dir, 'illegal.bin')))).toEqual([0xa7, 0x10]);
  });

  it('prints each error of the source as file:line:col, exits 1 and writes no output', async () => {
    const file = source('broken.s', ' lda #1\n frob\n jmp nowhere\n');
    const out = join(dir, 'broken.bin');
    const r = await asm(file, '-o', out, '--listing', join(dir, 'broken.lst'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${file}:2:2: error: unknown instruction 'frob'\n${file}:3:6: error: undefined symbol 'nowhere'\n`);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(dir, 'broken.lst'), 'utf8')).toContain("*** error: unknown instruction 'frob'");
  });

  it.each([
    [['asm'], /asm needs a FILE/],
    [['a.s', 'b.s'], /asm takes one FILE, got 2/],
    [[join(dir, 'missing.s')], /cannot read .*missing\.s: no such file/],
    [[dir], /cannot read .*: it is a directory/],
    [['x.s', '--frobnicate'], /^hyper6502: asm: unknown option --frobnicate \(hyper6502 asm --help lists the options\)\n$/],
    [['x.s', '--cpu', 'z80'], /--cpu: unknown CPU "z80"/],
    [['x.s', '--format', 'hex'], /--format: unknown format "hex"/],
    [['x.s', '-o', 'x.s'], /would overwrite the source/],
  ])('rejects %j with one line naming the problem', async (argv, message) => {
    const r = await asm(...(argv[0] === 'asm' ? [] : argv));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('cannot write the output: one line, exit 2', async () => {
    const r = await asm(source('ok.s', ' nop\n'), '-o', join(dir, 'no', 'such', 'folder', 'x.bin'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*x\.bin: no such file or folder/);
  });

  it('--help prints the usage', async () => {
    expect(await asm('--help')).toEqual({ code: 0, stdout: ASM_USAGE + '\n', stderr: '' });
  });
});

describe('hyper6502 run FILE.s', () => {
  it('assembles and runs in one step, and shows the errors of a bad source', async () => {
    const file = source('run-countdown.s', countdown);
    let stderr = '';
    const code = await main(['run', file, '--stop-on-self-loop', '--stats'], { stdout: () => {}, stderr: (t) => void (stderr += t) });
    expect(code).toBe(0);
    expect(JSON.parse(stderr)).toMatchObject({ reason: 'self-loop', pc: 0x0205, x: 0 });
    const bad = source('run-bad.s', ' lda #1\n bogus\n');
    let err = '';
    expect(await main(['run', bad], { stdout: () => {}, stderr: (t) => void (err += t) })).toBe(1);
    expect(err).toMatch(/run-bad\.s:2:2: error: /);
  });
});

describe('assembleFile', () => {
  it('reads .include and .incbin relative to the including file', () => {
    mkdirSync(join(dir, 'proj', 'inc'), { recursive: true });
    writeFileSync(join(dir, 'proj', 'inc', 'defs.s'), 'VALUE = 7\n .include "more.s"\n');
    writeFileSync(join(dir, 'proj', 'inc', 'more.s'), 'OTHER = 8\n');
    writeFileSync(join(dir, 'proj', 'data.bin'), Uint8Array.from([9, 10]));
    const main = join(dir, 'proj', 'main.s');
    writeFileSync(main, ' .include "inc/defs.s"\n lda #VALUE\n ldx #OTHER\n .incbin "data.bin"\n');
    const result = assembleFile(main, { cpu: '6502' });
    expect(result.errors).toEqual([]);
    expect(Array.from(result.bytes)).toEqual([0xa9, 7, 0xa2, 8, 9, 10]);
  });

  it('knows assembler source by its extension, and where a program starts', () => {
    expect(['a.s', 'B.ASM', 'c.a65', 'd.bin', 'e.prg', 's'].map(isAssemblerSource)).toEqual([true, true, true, false, false, false]);
    expect(startAddress(assemble(' .org $0400\n nop'))).toBe(0x0400);
    expect(startAddress(assemble(' .org $E000\nreset: nop\n .org $FFFC\n .word reset, 0'))).toBe(0xe000);
    expect(startAddress(assemble(' .org $FFFC\n .byte 1'))).toBe(0xfffc); // half a vector is none
  });

  it('an unreadable file is a UsageError', () => {
    expect(() => assembleFile(join(dir, 'nope.s'))).toThrow(UsageError);
  });
});
