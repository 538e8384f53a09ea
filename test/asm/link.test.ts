// `hyper6502 asm -o FILE.o` and `hyper6502 link`: object files, ld65
// configurations, the label, map and debug files; clean one-line errors
// for bad input; the linker's own errors as ld65 words them.
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';
import { readDebugInfo, DebugInfoError } from '../../src/asm/dbginfo.ts';
import { parseLinkerConfig, ConfigError } from '../../src/asm/ldconfig.ts';
import { readObject, ObjectError } from '../../src/asm/object.ts';
import { hasCa65 } from './ca65.ts';

const dir = mkdtempSync(join(tmpdir(), 'hyper6502-link-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

async function cli(...argv: string[]) {
  let stdout = '', stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const CFG = `MEMORY { ZP: start = $80, size = $80, file = ""; RAM: start = $1000, size = $1000, file = %O, fill = yes, fillval = $EA; }
SEGMENTS { ZEROPAGE: load = ZP, type = zp; CODE: load = RAM, type = ro; DATA: load = RAM, type = rw, define = yes; }
`;
const MAIN = `.export start
.import helper
.proc start
  lda #1
loop: jsr helper
  bne loop
  rts
.endproc
value = 5
.data
tbl: .byte 1, 2, 3
`;
const LIB = `.export helper
.zeropage
zp1: .res 2
.code
helper: lda zp1
  rts
`;

describe('hyper6502 asm -o X.o, hyper6502 link', () => {
  it('assembles two modules, links them by a config, writes -Ln, -m and --dbgfile', async () => {
    const cfg = file('t.cfg', CFG);
    for (const [name, text] of [['a.s', MAIN], ['b.s', LIB]]) expect(await cli('asm', '-g', file(name, text), '-o', join(dir, name.replace('.s', '.o')))).toMatchObject({ code: 0 });
    const r = await cli('link', '-C', cfg, join(dir, 'a.o'), join(dir, 'b.o'), '-o', join(dir, 'out.bin'), '-Ln', join(dir, 'out.lbl'), '-m', join(dir, 'out.map'), '--dbgfile', join(dir, 'out.dbg'));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const bin = readFileSync(join(dir, 'out.bin'));
    expect(bin.length).toBe(0x1000); // fill = yes
    // a.o's CODE, b.o's CODE, a.o's DATA, then the fill value.
    expect(Array.from(bin.subarray(0, 15))).toEqual([0xa9, 0x01, 0x20, 0x08, 0x10, 0xd0, 0xfb, 0x60, 0xa5, 0x80, 0x60, 1, 2, 3, 0xea]);
    const labels = readFileSync(join(dir, 'out.lbl'), 'utf8');
    expect(labels).toContain('al 001008 .helper\n');
    expect(labels).toContain('al 001002 .loop\n');
    expect(readFileSync(join(dir, 'out.map'), 'utf8')).toContain('helper                    001008 RLA');
    const info = readDebugInfo(readFileSync(join(dir, 'out.dbg'), 'utf8'));
    expect(info.mod.map((m) => m.name)).toEqual(['a.o', 'b.o']);
    expect(info.sym.find((s) => s.name === 'loop')).toMatchObject({ val: 0x1002, type: 'lab' });
    expect(info.sym.find((s) => s.name === 'value')).toMatchObject({ val: 5, type: 'equ', addrsize: 'zeropage' });
    expect(info.sym.find((s) => s.name === 'helper' && s.type === 'imp')?.exp).toBe(info.sym.findIndex((s) => s.name === 'helper' && s.type === 'lab'));
    // Each line with code has a span in a segment whose start plus the span's start is its address.
    const seg = info.seg.find((s) => s.name === 'CODE')!;
    const line5 = info.line.find((l) => l.line === 5 && info.file[l.file].name.endsWith('a.s'))!;
    const span = info.span[line5.span![0]];
    expect(seg.start + span.start).toBe(0x1002);
    expect(span.size).toBe(3);
  });

  it.runIf(hasCa65)('gives the binary, label file and map file ld65 gives for the same objects', async () => {
    const work = mkdtempSync(join(dir, 'ld65-'));
    mkdirSync(join(work, 'ref'));
    writeFileSync(join(work, 'a.s'), MAIN);
    writeFileSync(join(work, 'b.s'), LIB);
    writeFileSync(join(work, 't.cfg'), CFG);
    for (const n of ['a', 'b']) expect(spawnSync('ca65', ['-g', `${n}.s`, '-o', `ref/${n}.o`], { cwd: work }).status).toBe(0);
    expect(spawnSync('ld65', ['-C', 't.cfg', 'ref/a.o', 'ref/b.o', '-o', 'ref.bin', '-Ln', 'ref.lbl', '-m', 'ref.map', '--dbgfile', 'ref.dbg'], { cwd: work }).status).toBe(0);
    const cwd = process.cwd();
    process.chdir(work);
    try {
      for (const n of ['a', 'b']) expect((await cli('asm', '-g', `${n}.s`, '-o', `${n}.o`)).code).toBe(0);
      expect((await cli('link', '-C', 't.cfg', 'a.o', 'b.o', '-o', 'out.bin', '-Ln', 'out.lbl', '-m', 'out.map', '--dbgfile', 'out.dbg')).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const read = (n: string) => readFileSync(join(work, n));
    expect(read('out.bin').equals(read('ref.bin'))).toBe(true);
    expect(read('out.lbl').toString()).toBe(read('ref.lbl').toString());
    expect(read('out.map').toString()).toBe(read('ref.map').toString());
    // ld65's own debug file reads, and names the same symbols with the same values as ours.
    const theirs = readDebugInfo(read('ref.dbg').toString());
    const ours = readDebugInfo(read('out.dbg').toString());
    const lines = (d: typeof ours, ids?: number[]) => (ids ?? []).map((i) => `${d.file[d.line[i].file].name}:${d.line[i].line}`).sort().join(' ');
    const symbols = (d: typeof ours) => d.sym.map((s) => `${s.name} ${s.type} ${s.val ?? ''} ${s.addrsize} def ${lines(d, s.def)} ref ${lines(d, s.ref)}`).sort();
    expect(symbols(ours)).toEqual(symbols(theirs));
    expect(ours.seg.map((s) => [s.name, s.start, s.size])).toEqual(theirs.seg.map((s) => [s.name, s.start, s.size]));
  });

  it.runIf(hasCa65)('--dbgfile maps each address to the same source lines as ld65, through macros and .repeat', async () => {
    const work = mkdtempSync(join(dir, 'lines-'));
    mkdirSync(join(work, 'ref'));
    writeFileSync(join(work, 'm.s'), `.macro inner v
  lda #v
  sta $10
.endmacro
.macro outer v
  inner v
  .repeat 2, i
    .byte i
  .endrep
  nop
.endmacro
start:
  outer 1
  outer 2
  inner 3
  rts
`);
    writeFileSync(join(work, 't.cfg'), CFG);
    expect(spawnSync('ca65', ['-g', 'm.s', '-o', 'ref/m.o'], { cwd: work }).status).toBe(0);
    expect(spawnSync('ld65', ['-C', 't.cfg', 'ref/m.o', '-o', 'ref.bin', '--dbgfile', 'ref.dbg'], { cwd: work }).status).toBe(0);
    const cwd = process.cwd();
    process.chdir(work);
    try {
      expect((await cli('asm', '-g', 'm.s', '-o', 'm.o')).code).toBe(0);
      expect((await cli('link', '-C', 't.cfg', 'm.o', '-o', 'out.bin', '--dbgfile', 'out.dbg')).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const lineMap = (path: string) => {
      const d = readDebugInfo(readFileSync(join(work, path), 'utf8'));
      return d.line.flatMap((l) => (l.span ?? []).map((id) => `$${(d.seg[d.span[id].seg].start + d.span[id].start).toString(16)}+${d.span[id].size} ${d.file[l.file].name}:${l.line} type ${l.type ?? 0} count ${l.count ?? 0}`)).sort();
    };
    expect(lineMap('out.dbg')).toEqual(lineMap('ref.dbg'));
  });

  it('link -D defines a symbol, as ld65 -D', async () => {
    const cfg = file('d.cfg', 'MEMORY { RAM: start = $1000, size = $100, file = %O; }\nSEGMENTS { CODE: load = RAM, type = ro; }\n');
    expect((await cli('asm', file('ld.s', '.import SIZE\n .word SIZE\n'), '-o', join(dir, 'ld.o'))).code).toBe(0);
    expect((await cli('link', '-C', cfg, join(dir, 'ld.o'), '-D', 'SIZE=$1234', '-o', join(dir, 'ld.bin'))).code).toBe(0);
    expect(Array.from(readFileSync(join(dir, 'ld.bin')))).toEqual([0x34, 0x12]);
    expect((await cli('link', '-C', cfg, join(dir, 'ld.o'), '-D', 'SIZE')).stderr).toMatch(/-D SIZE: expected NAME=VALUE/);
  });

  it('reports what ld65 reports: unresolved externals, missing segments, overflow', async () => {
    const cfg = file('small.cfg', 'MEMORY { RAM: start = $1000, size = 4, file = %O; }\nSEGMENTS { CODE: load = RAM, type = ro; }\n');
    expect((await cli('asm', file('u.s', '.import nowhere\n jsr nowhere\n.rodata\n .byte 1\n'), '-o', join(dir, 'u.o'))).code).toBe(0);
    const r = await cli('link', '-C', cfg, join(dir, 'u.o'), '-o', join(dir, 'u.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: Missing memory area assignment for segment 'RODATA'");
    expect(r.stderr).toContain(`Error: Unresolved external 'nowhere' referenced in:\n    ${join(dir, 'u.s')}(1)`);
    expect((await cli('asm', file('big.s', ' .res 5\n'), '-o', join(dir, 'big.o'))).code).toBe(0);
    const big = await cli('link', '-C', cfg, join(dir, 'big.o'), '-o', join(dir, 'big.bin'));
    expect(big.stderr).toContain("Segment 'CODE' overflows memory area 'RAM' by 1 byte");
    const huge = await cli('link', '-C', file('huge.cfg', 'MEMORY { RAM: start = 0, size = $FFFFFFFF, file = %O, fill = yes; }\nSEGMENTS { CODE: load = RAM; }\n'), join(dir, 'big.o'), '-o', join(dir, 'huge.bin'));
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain("Output file '" + join(dir, 'huge.bin') + "' would be 4294967295 bytes");
  });

  it.each([
    [['link'], /link needs a configuration: -C FILE.cfg/],
    [['link', '-C', '/nonexistent.cfg', 'x.o'], /cannot read \/nonexistent\.cfg: no such file/],
    [['link', '-C', 'CFG', 'NOTOBJ'], /is not a hyper6502-object object file/],
    [['link', '-C', 'BADCFG', 'OBJ'], /bad\.cfg:2: unknown attribute 'colour' for RAM/],
    [['link', '-C', 'CFG'], /link needs object files to link/],
  ])('rejects %j with one line naming the problem (exit 2)', async (argv, message) => {
    const cfg = file('ok.cfg', CFG);
    const bad = file('bad.cfg', 'MEMORY {\n RAM: start = 0, size = 1, colour = red;\n}\n');
    const notObject = file('not.o', 'hello');
    await cli('asm', file('obj.s', ' nop\n'), '-o', join(dir, 'obj.o'));
    const args = argv.map((a) => (a === 'CFG' ? cfg : a === 'BADCFG' ? bad : a === 'NOTOBJ' ? notObject : a === 'OBJ' ? join(dir, 'obj.o') : a));
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('asm -D and -I, as ca65 takes them; --format obj', async () => {
    const inc = mkdtempSync(join(dir, 'inc-'));
    writeFileSync(join(inc, 'defs.inc'), 'BASE = $40\n');
    const src = file('d.s', ' .include "defs.inc"\n .byte BASE + LEVEL\n.ifdef FAST\n .byte 1\n.endif\n');
    expect((await cli('asm', src, '-I', inc, '-D', 'LEVEL=2', '-D', 'FAST', '-o', join(dir, 'd.bin'))).code).toBe(0);
    expect(Array.from(readFileSync(join(dir, 'd.bin')))).toEqual([0x42, 1]);
    expect((await cli('asm', src, '-I', inc, '-D', 'LEVEL=$10', '--format', 'obj', '-o', join(dir, 'd.obj'))).code).toBe(0);
    expect(readObject(readFileSync(join(dir, 'd.obj'), 'utf8'), 'd.obj').segments.find((s) => s.name === 'CODE')!.data).toBe('50');
    expect((await cli('asm', src, '-D', 'bad name')).stderr).toMatch(/-D bad name: expected NAME or NAME=VALUE/);
  });

  it('asm prints every error with the chain of macro expansions, exit 1', async () => {
    const src = file('m.s', '.macro inner v\n lda #v\n.endmacro\n.macro outer v\n inner v\n.endmacro\n outer 300\n frob\n');
    const r = await cli('asm', src, '-o', join(dir, 'm.o'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${src}:2:7: error: immediate value $012C is out of range (0 to $FF)\n${src}:5:2: note: in expansion of macro 'inner'\n${src}:7:2: note: in expansion of macro 'outer'\n` +
        `${src}:8:2: error: unknown instruction 'frob'\n`,
    );
  });

  it('asm refuses endless and oversized files by their size, before reading them', async () => {
    const r = await cli('asm', file('z.s', ' .incbin "/dev/zero"\n'), '-o', join(dir, 'z.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read "\/dev\/zero": \/dev\/zero is not a regular file/);
  });
});

describe('linker configs and object files, read strictly', () => {
  it('parses every section ld65 has', () => {
    const c = parseLinkerConfig(`# comment
FEATURES { STARTADDRESS: default = $0801; CONDES: type = constructor, label = __CT__, count = __CC__, segment = ONCE; }
SYMBOLS { __STACKSIZE__: type = weak, value = $800; }
MEMORY { MAIN: file = %O, start = %S, size = $D000 - %S - __STACKSIZE__, fill = yes, fillval = $FF, define = yes; }
SEGMENTS { CODE: load = MAIN, type = ro, align = $100; BSS: load = MAIN, type = bss, define = yes, optional = yes; }
FILES { %O: format = bin; }
FORMATS { o65: os = lunix; }
`, 'x.cfg');
    expect(c.startAddress).toBe(0x801);
    expect(c.memory[0]).toMatchObject({ name: 'MAIN', fill: true, fillval: 0xff, define: true, file: '%O' });
    expect(c.segments.map((s) => [s.name, s.type, s.align ?? null, s.optional])).toEqual([['CODE', 'ro', 0x100, false], ['BSS', 'bss', null, true]]);
    expect(c.condes[0]).toMatchObject({ type: 'constructor', label: '__CT__', segment: 'ONCE' });
  });

  it.each([
    ['MEMORY { RAM: size = 1; }', 'x.cfg:1: memory area RAM has no start'],
    ['SEGMENTS { CODE: type = ro; }', 'x.cfg:1: segment CODE has no load memory area'],
    ['MEMORY { RAM: start = 0, size = 1, start = 2; }', "x.cfg:1: attribute 'start' given twice"],
    ['MEMORY {\n RAM: start = $, size = 1; }', 'x.cfg:2: bad number'],
    ['BANANAS { }', "x.cfg:1: unknown section 'BANANAS'"],
    ['MEMORY { RAM: start = 0, size = 1 }', "x.cfg:1: expected ';' after the attributes of RAM"],
  ])('%s is an error that names the line', (text, message) => {
    expect(() => parseLinkerConfig(text, 'x.cfg')).toThrow(ConfigError);
    expect(() => parseLinkerConfig(text, 'x.cfg')).toThrow(message);
  });

  it('an object file of another version, or damaged, is named as such', () => {
    expect(() => readObject('{"format":"hyper6502-object","version":99}', 'old.o')).toThrow('old.o is object format version 99');
    expect(() => readObject('{"format":"hyper6502-object","version":1,"segments":[{"name":"CODE","data":"xyz"}],"imports":[],"exports":[],"files":[]}', 'bad.o')).toThrow(ObjectError);
  });

  it('a debug info file that is not one is an error that names the line', () => {
    expect(() => readDebugInfo('')).toThrow(DebugInfoError);
    expect(() => readDebugInfo('version\tmajor=3,minor=0\n')).toThrow('line 1: version 3.0: this reader knows version 2');
    expect(() => readDebugInfo('version\tmajor=2,minor=0\nsym\tid=1,name="x"\n')).toThrow('sym records must have ids 0, 1, 2...');
    expect(() => readDebugInfo('version\tmajor=2,minor=0\nseg\tid=0,name="unterminated\n')).toThrow('line 2: unterminated string for name');
    expect(() => readDebugInfo('version\tmajor=2,minor=0\ninfo\tsym=2\nsym\tid=0,name="x",addrsize=absolute,type=lab\n')).toThrow('info says 2 sym records, the file has 1');
  });
});
