// Debug info files in ld65's format (--dbgfile): written by the linker,
// read back by debuggers.
//
// How to drive this:
//   const text = writeDebugInfo(linkResult);        // "version\tmajor=2,minor=0\ninfo\t..."
//   const info = readDebugInfo(text);               // throws DebugInfoError "line 3: ..." for bad input
//   info.sym.find((s) => s.name === 'main')?.val    // 0x1000
//   info.line / info.span / info.seg                // address -> source line
//
// One record a line: a keyword, a tab, then key=value pairs separated by
// commas; values are decimal or 0x hex numbers, "strings", or id lists
// joined by '+'. Records: version, info (the counts), csym, file, lib,
// line, mod, seg, span, scope, sym, type. The reader takes ld65's own files
// as well as ours, and keeps keys it does not know.

import { evalLinkExpr } from './expression.js';
import type { LinkResult } from './linker.js';

export type DebugValue = number | string | number[];
export interface DebugRecord {
  id: number;
  [key: string]: DebugValue;
}

export interface DebugInfo {
  version: { major: number; minor: number };
  info: Record<string, number>;
  csym: DebugRecord[];
  file: Array<DebugRecord & { name: string; size: number; mtime: number; mod: number[] }>;
  lib: Array<DebugRecord & { name: string }>;
  line: Array<DebugRecord & { file: number; line: number; type?: number; count?: number; span?: number[] }>;
  mod: Array<DebugRecord & { name: string; file: number; lib?: number }>;
  seg: Array<DebugRecord & { name: string; start: number; size: number; addrsize: string; type: string; oname?: string; ooffs?: number }>;
  span: Array<DebugRecord & { seg: number; start: number; size: number; type?: number }>;
  scope: Array<DebugRecord & { name: string; mod: number; type?: string; size?: number; parent?: number; sym?: number; span?: number[] }>;
  sym: Array<DebugRecord & { name: string; addrsize: string; size?: number; scope?: number; parent?: number; def?: number[]; ref?: number[]; val?: number; seg?: number; type: string; exp?: number }>;
  type: Array<DebugRecord & { val: string }>;
}

export class DebugInfoError extends Error {}

const KINDS = ['csym', 'file', 'lib', 'line', 'mod', 'seg', 'span', 'scope', 'sym', 'type'] as const;
/** Keys whose values are id lists even when one id is given. */
const LISTS = new Set(['mod', 'span', 'def', 'ref']);

export function readDebugInfo(text: string): DebugInfo {
  const out = { version: { major: 0, minor: 0 }, info: {} } as DebugInfo;
  for (const k of KINDS) (out as unknown as Record<string, unknown[]>)[k] = [];
  const lines = text.split('\n');
  let sawVersion = false;
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line === '') return;
    const fail = (message: string): never => {
      throw new DebugInfoError(`line ${index + 1}: ${message}`);
    };
    const tab = line.indexOf('\t');
    if (tab < 0) fail('expected a keyword, a tab and key=value pairs');
    const keyword = line.slice(0, tab);
    const fields: Record<string, DebugValue> = {};
    let i = tab + 1;
    while (i < line.length) {
      const eq = line.indexOf('=', i);
      if (eq < 0) fail(`expected key=value at column ${i + 1}`);
      const key = line.slice(i, eq);
      if (!/^[a-z]+$/.test(key)) fail(`bad key "${key}"`);
      let value: DebugValue;
      let j = eq + 1;
      if (line[j] === '"') {
        const end = line.indexOf('"', j + 1);
        if (end < 0) fail(`unterminated string for ${key}`);
        value = line.slice(j + 1, end);
        j = end + 1;
      } else {
        const end = line.indexOf(',', j);
        const token = line.slice(j, end < 0 ? line.length : end);
        j = end < 0 ? line.length : end;
        const parts = token.split('+').map((p) => (/^0x[0-9a-fA-F]+$/.test(p) ? parseInt(p.slice(2), 16) : /^[0-9]+$/.test(p) ? Number(p) : NaN));
        if (parts.some((p) => Number.isNaN(p))) value = token;
        else value = parts.length > 1 || LISTS.has(key) ? parts : parts[0];
      }
      fields[key] = value;
      if (j < line.length) {
        if (line[j] !== ',') fail(`expected ',' at column ${j + 1}`);
        j++;
      }
      i = j;
    }
    if (keyword === 'version') {
      sawVersion = true;
      out.version = { major: Number(fields.major), minor: Number(fields.minor) };
      if (out.version.major !== 2) fail(`version ${out.version.major}.${out.version.minor}: this reader knows version 2`);
      return;
    }
    if (!sawVersion) fail('the file must start with a version line');
    if (keyword === 'info') {
      for (const [k, v] of Object.entries(fields)) out.info[k] = Number(v);
      return;
    }
    if (!(KINDS as readonly string[]).includes(keyword)) fail(`unknown record "${keyword}"`);
    if (typeof fields.id !== 'number') fail(`${keyword} has no id`);
    (out as unknown as Record<string, DebugRecord[]>)[keyword].push(fields as DebugRecord);
  });
  if (!sawVersion) throw new DebugInfoError('line 1: empty file (no version line)');
  for (const k of KINDS) {
    const list = (out as unknown as Record<string, DebugRecord[]>)[k];
    list.forEach((r, i) => {
      if (r.id !== i) throw new DebugInfoError(`${k} records must have ids 0, 1, 2...: found id ${r.id} at place ${i}`);
    });
    // ld65 counts a file once for each module that names it (its files come from libraries too): more files than records is its count.
    const counted = out.info[k];
    if (counted !== undefined && (k === 'file' ? counted < list.length : counted !== list.length)) throw new DebugInfoError(`info says ${counted} ${k} records, the file has ${list.length}`);
  }
  return out;
}

const hex = (n: number, digits: number) => (n >>> 0).toString(16).toUpperCase().padStart(digits, '0');

/** The debug info of a link, in ld65's --dbgfile format. */
export function writeDebugInfo(r: LinkResult): string {
  const files: Array<{ name: string; size: number; mtime: number; mods: number[] }> = [];
  const fileIds = r.modules.map((m, mi) =>
    m.files.map((f) => {
      let id = files.findIndex((x) => x.name === f.name && x.size === f.size && x.mtime === f.mtime);
      if (id < 0) id = files.push({ name: f.name, size: f.size, mtime: f.mtime, mods: [] }) - 1;
      if (!files[id].mods.includes(mi)) files[id].mods.push(mi);
      return id;
    }),
  );
  // Segments: every segment the modules have, in order of first appearance.
  const segNames: string[] = [];
  for (const m of r.modules) for (const s of m.segments) if (!segNames.includes(s.name)) segNames.push(s.name);
  const placed = new Map(r.segments.map((s) => [s.name, s]));
  const lines: string[] = [];
  const spans: string[] = [];
  const scopes: string[] = [];
  const syms: string[] = [];
  let lineCount = 0;
  let symBase = 0;
  let scopeBase = 0;
  r.modules.forEach((m, mi) => {
    const debug = m.debug;
    if (!debug) return;
    // Lines: one record for each (file, line, kind); spans: one for each stretch of bytes.
    const lineIds = new Map<string, number>();
    const lineText: string[] = [];
    const lineSpans: number[][] = [];
    const firstLine = lineCount;
    const lineOf = (pos: [number, number, number], type: 'asm' | 'macro', depth = 0) => {
      const key = `${pos[0]}:${pos[1]}:${type}:${depth}`;
      let id = lineIds.get(key);
      if (id === undefined) {
        id = lineCount++;
        lineIds.set(key, id);
        lineText.push(`line\tid=${id},file=${fileIds[mi][pos[0]] ?? 0},line=${pos[1]}${type === 'macro' ? ',type=2' : ''}${depth ? `,count=${depth}` : ''}`);
        lineSpans.push([]);
      }
      return id;
    };
    const spanRecords: Array<{ seg: number; start: number; size: number }> = [];
    const spanIds = new Map<string, number>();
    const segmentStart = (segment: string) => (r.sectionBase(mi, segment) ?? 0) - (placed.get(segment)?.address ?? 0);
    const spanAt = (segment: string, offset: number, size: number): number => {
      const seg = segNames.indexOf(segment);
      const start = segmentStart(segment) + offset;
      const key = `${seg}:${start}:${size}`;
      let id = spanIds.get(key);
      if (id === undefined) {
        id = spans.length + spanRecords.length;
        spanIds.set(key, id);
        spanRecords.push({ seg, start, size });
      }
      return id;
    };
    // The bytes of one macro call that follow each other are one span of the line that called it.
    const open = new Map<number, { seg: number; end: number; index: number; call: number }>();
    for (const s of debug.spans) {
      const line = lineOf(s.pos, s.type, s.depth);
      const seg = segNames.indexOf(s.segment);
      const start = segmentStart(s.segment) + s.offset;
      const last = open.get(line);
      if (last && s.call !== undefined && last.call === s.call && last.seg === seg && last.end === start) {
        spanRecords[last.index].size += s.size;
        last.end += s.size;
        continue;
      }
      const index = spanRecords.length;
      spanRecords.push({ seg, start, size: s.size });
      lineSpans[line - firstLine].push(spans.length + index);
      open.set(line, { seg, end: start + s.size, index, call: s.call ?? -1 });
    }
    // Lines that made the same bytes (a macro's body line and its call) share one span.
    const unique: typeof spanRecords = [];
    const renumber = spanRecords.map((rec) => {
      const key = `${rec.seg}:${rec.start}:${rec.size}`;
      let id = spanIds.get(key);
      if (id === undefined) {
        id = spans.length + unique.length;
        spanIds.set(key, id);
        unique.push(rec);
      }
      return id;
    });
    spanRecords.length = 0;
    spanRecords.push(...unique);
    for (const list of lineSpans) list.forEach((id, k) => (list[k] = renumber[id - spans.length]));
    const symbolIds = new Map<string, number>();
    debug.symbols.forEach((s, i) => symbolIds.set(`${s.scope}:${s.name}`, symBase + i));
    debug.scopes.forEach((sc, i) => {
      let text = `scope\tid=${scopeBase + i},name="${sc.name}",mod=${mi}`;
      if (sc.kind === 'proc' || sc.kind === 'scope') text += ',type=scope';
      else if (sc.kind === 'struct') text += ',type=struct';
      else if (sc.kind === 'enum') text += ',type=enum';
      if (sc.size) text += `,size=${sc.size}`;
      if (sc.parent >= 0) text += `,parent=${scopeBase + sc.parent}`;
      if (sc.kind === 'proc') {
        const label = symbolIds.get(`${sc.parent}:${sc.name}`);
        if (label !== undefined) text += `,sym=${label}`;
      }
      const covered = (sc.spans ?? []).map(([segment, offset, size]) => spanAt(segment, offset, size));
      if (covered.length) text += `,span=${covered.join('+')}`;
      scopes.push(text);
    });
    debug.symbols.forEach((s, i) => {
      let text = `sym\tid=${symBase + i},name="${s.name}",addrsize=${s.addrSize}`;
      const scoped = debug.scopes.find((sc) => sc.kind === 'proc' && sc.parent === s.scope && sc.name === s.name);
      const size = scoped?.size ?? s.size;
      if (size) text += `,size=${size}`;
      text += s.parent !== undefined ? `,parent=${symBase + s.parent}` : `,scope=${scopeBase + s.scope}`;
      text += `,def=${lineOf(s.pos, 'asm')}`;
      if (s.refs?.length) text += `,ref=${s.refs.map((ref) => lineOf(ref.pos, ref.depth ? 'macro' : 'asm', ref.depth)).join('+')}`;
      if (s.visibility === 'import') {
        text += ',type=imp';
        const e = r.exports.get(s.name);
        if (e && e.module >= 0) {
          const other = r.modules[e.module].debug?.symbols;
          const idx = other?.findIndex((x) => x.name === s.name && x.visibility === 'export');
          if (other && idx !== undefined && idx >= 0) text += `,exp=${symIdBase(r, e.module) + idx}`;
        }
      } else {
        let seg: string | undefined;
        const v = evalLinkExpr(s.value, (kind, name) => {
          if (kind === 'imp') return r.exports.get(name)?.value ?? 0;
          seg = name;
          return r.sectionBase(mi, name) ?? 0;
        });
        text += `,val=0x${hex(v, 1)}`;
        if (seg !== undefined) text += `,seg=${segNames.indexOf(seg)}`;
        text += `,type=${s.label ? 'lab' : 'equ'}`;
      }
      syms.push(text);
    });
    lineText.forEach((text, i) => lines.push(lineSpans[i].length ? `${text},span=${lineSpans[i].join('+')}` : text));
    for (const rec of spanRecords) spans.push(`span\tid=${spans.length},seg=${rec.seg},start=${rec.start},size=${rec.size}`);
    symBase += debug.symbols.length;
    scopeBase += debug.scopes.length;
  });
  let out = 'version\tmajor=2,minor=0\n';
  out += `info\tcsym=0,file=${files.length},lib=0,line=${lines.length},mod=${r.modules.length},scope=${scopes.length},seg=${segNames.length},span=${spans.length},sym=${syms.length},type=0\n`;
  files.forEach((f, i) => (out += `file\tid=${i},name="${f.name}",size=${f.size},mtime=0x${hex(f.mtime, 8)},mod=${f.mods.join('+')}\n`));
  for (const l of lines) out += l + '\n';
  r.modules.forEach((m, i) => (out += `mod\tid=${i},name="${r.names[i]}",file=${fileIds[i][0] ?? 0}\n`));
  segNames.forEach((name, i) => {
    const s = placed.get(name);
    const addrSize = s?.addrSize ?? r.modules.flatMap((m) => m.segments).find((x) => x.name === name)?.addrSize ?? 'absolute';
    const type = s && (s.rule.type === 'ro') ? 'ro' : 'rw';
    out += `seg\tid=${i},name="${name}",start=0x${hex(s?.address ?? 0, 6)},size=0x${hex(s?.size ?? 0, 4)},addrsize=${addrSize},type=${type}`;
    if (s?.outputName !== undefined) out += `,oname="${s.outputName}",ooffs=${s.outputOffset}`;
    out += '\n';
  });
  for (const t of [...spans, ...scopes, ...syms]) out += t + '\n';
  return out;
}

function symIdBase(r: LinkResult, module: number): number {
  let base = 0;
  for (let i = 0; i < module; i++) base += r.modules[i].debug?.symbols.length ?? 0;
  return base;
}
