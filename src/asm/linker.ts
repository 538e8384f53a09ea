// The linker: object modules and an ld65 configuration in, the files ld65
// would write out: the binary, the label file (-Ln), the map file (-m) and
// the debug info (--dbgfile, in dbginfo.ts).
//
// How to drive this:
//   const result = link([main, lib], parseLinkerConfig(cfgText, 'app.cfg'), { output: 'app.bin' });
//   if (result.errors.length) ...                 // "Unresolved external 'foo' referenced in: main.s(12)"
//   result.files.get('app.bin')                   // the bytes
//   result.labels, result.map                     // -Ln and -m texts
//   linkImage(module, 0x0200, marks)              // one module, no config: the assembler's one-step image
//
// Placement follows ld65: segments in the order of the SEGMENTS section,
// each module's part of a segment in the order the modules are given, each
// part aligned within its segment; memory areas written to their files in
// order, gaps filled with the fill value, `fill = yes` padding to the size.

import { evalLinkExpr, type LinkExpr } from './expression.js';
import { bytesOfHex, writeValue, type ObjectModule, type ObjSegment, type Pos } from './object.js';
import { ConfigError, type ConfigExpr, type LinkerConfig, type MemoryArea, type SegmentRule } from './ldconfig.js';
import type { AsmError } from './output.js';

export interface LinkOptions {
  /** The main output file (%O); default "a.out", as ld65. */
  output?: string;
  /** %S: the start address (ld65's -S); default FEATURES STARTADDRESS, else $200. */
  startAddress?: number;
  /** Module names for messages and the map file (default: each module's source with .o). */
  names?: string[];
  /** Symbols defined on the command line (ld65's -D NAME=VALUE). */
  defines?: Record<string, number>;
}

export interface PlacedSection {
  module: number;
  segment: ObjSegment;
  /** Offset of this part in its segment (after its alignment fill). */
  offset: number;
  fill: number;
}

export interface PlacedSegment {
  name: string;
  rule: SegmentRule;
  sections: PlacedSection[];
  size: number;
  align: number;
  /** Run address. */
  address: number;
  loadAddress: number;
  fillval: number;
  addrSize: string;
  /** The file and offset its bytes went to, if written. */
  outputName?: string;
  outputOffset?: number;
}

export interface LinkResult {
  errors: string[];
  warnings: string[];
  /** Output file name -> bytes. */
  files: Map<string, Uint8Array>;
  segments: PlacedSegment[];
  /** Every export and linker-defined symbol, by name. */
  exports: Map<string, LinkedExport>;
  labels: string;
  map: string;
  modules: ObjectModule[];
  names: string[];
  /** The configuration's file name, for messages and the map. */
  configFile: string;
  memory: Array<{ area: MemoryArea; start: number; size: number; used: number; fileOffset: number }>;
  /** The run address of a module's segment part. */
  sectionBase(module: number, segment: string): number | undefined;
}

export interface LinkedExport {
  name: string;
  value: number;
  /** The module that exports it, or -1 for the linker (config symbols, segment and memory symbols). */
  module: number;
  label: boolean;
  addrSize: string;
  importers: Array<{ module: number; pos: Pos }>;
  /** An entry of a CONDES table (the map lists it, flagged I). */
  condes?: boolean;
}

const CONDES_TYPES = ['constructor', 'destructor', 'interruptor'];
/** The largest output file (16 MiB). */
const MAX_OUTPUT = 16 << 20;
const alignCount = (addr: number, align: number) => (align <= 1 ? 0 : (align - (addr % align)) % align);

export function link(modules: ObjectModule[], config: LinkerConfig, options: LinkOptions = {}): LinkResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const output = options.output ?? 'a.out';
  const names = options.names ?? modules.map((m) => m.source.replace(/\.[^./\\]*$/, '') + '.o');
  const startAddress = options.startAddress ?? config.startAddress ?? 0x200;
  const exports = new Map<string, LinkedExport & { expr?: LinkExpr }>();

  // Exports of the modules; duplicates are errors.
  modules.forEach((m, i) => {
    for (const e of m.exports) {
      const held = exports.get(e.name);
      if (held) {
        errors.push(`Duplicate external identifier: '${e.name}' (in ${names[held.module] ?? 'the config'} and ${names[i]})`);
        continue;
      }
      exports.set(e.name, { name: e.name, value: 0, module: i, label: e.label, addrSize: e.addrSize, importers: [], expr: e.value });
    }
  });

  for (const [name, value] of Object.entries(options.defines ?? {})) {
    if (exports.has(name)) errors.push(`Duplicate external identifier: '${name}' (defined with -D and in ${names[exports.get(name)!.module]})`);
    else exports.set(name, { name, value, module: -1, label: false, addrSize: 'absolute', importers: [] });
  }

  // Segments: each module's parts, in module order.
  const bySegment = new Map<string, PlacedSection[]>();
  modules.forEach((m, i) => {
    for (const s of m.segments) {
      let list = bySegment.get(s.name);
      if (!list) bySegment.set(s.name, (list = []));
      list.push({ module: i, segment: s, offset: 0, fill: 0 });
    }
  });
  // FEATURES CONDES: a table of the entries of one type, made when something imports its label;
  // each table is a section of its own at the end of its segment (module -2, -3, ...).
  const imported = new Set(modules.flatMap((m) => m.imports.map((i) => i.name)));
  // An entry of a table whose rule names an import makes its module import that symbol (ld65: import = __CALLIRQ__).
  const forcedImports: Array<{ name: string; module: number; pos: Pos }> = [];
  config.condes.forEach((rule, k) => {
    const type = CONDES_TYPES.includes(rule.type) ? CONDES_TYPES.indexOf(rule.type) : Number(rule.type);
    const entries: Array<{ name: string; priority: number }> = [];
    modules.forEach((m, i) => {
      for (const e of m.exports) {
        for (const c of e.condes ?? []) {
          if (c.type !== type) continue;
          entries.push({ name: e.name, priority: c.priority });
          if (rule.import) forcedImports.push({ name: rule.import, module: i, pos: e.pos });
        }
      }
    });
    if (!imported.has(rule.label) || exports.has(rule.label)) return;
    entries.sort((a, b) => (a.priority - b.priority || byName(a.name, b.name)) * (rule.order === 'decreasing' ? -1 : 1));
    const module = -2 - k;
    const segment: ObjSegment = {
      name: rule.segment, addrSize: 'absolute', align: 1, data: '0000'.repeat(entries.length),
      fixups: entries.map((e, i) => ({ offset: 2 * i, size: 2, expr: ['imp', e.name], check: 'unsigned', pos: [-1, 0, 0] })),
    };
    let list = bySegment.get(rule.segment);
    if (!list) bySegment.set(rule.segment, (list = []));
    list.push({ module, segment, offset: 0, fill: 0 });
    exports.set(rule.label, { name: rule.label, value: 0, module, label: true, addrSize: 'absolute', importers: [], expr: ['seg', rule.segment] });
    if (rule.count) exports.set(rule.count, { name: rule.count, value: entries.length, module: -1, label: false, addrSize: 'absolute', importers: [] });
  });
  for (const e of exports.values()) if (e.module >= 0 && modules[e.module].exports.find((x) => x.name === e.name)?.condes) e.condes = true;

  const placed: PlacedSegment[] = [];
  const ruleOf = new Map(config.segments.map((r) => [r.name, r]));
  for (const [name, sections] of bySegment) {
    const total = sections.reduce((n, s) => n + s.segment.data.length / 2, 0);
    if (!ruleOf.has(name) && total > 0) errors.push(`Missing memory area assignment for segment '${name}'`);
  }
  for (const rule of config.segments) {
    const sections = bySegment.get(rule.name);
    if (!sections) {
      if (!rule.optional) warnings.push(`${config.file}:${rule.line}: Segment '${rule.name}' does not exist`);
      continue;
    }
    let size = 0;
    let align = 1;
    for (const s of sections) {
      s.fill = alignCount(size, s.segment.align);
      s.offset = size + s.fill;
      size = s.offset + s.segment.data.length / 2;
      align = Math.max(align, s.segment.align);
    }
    if (!config.memory.some((m) => m.name === rule.load)) throw new ConfigError(`${config.file}:${rule.line}: segment '${rule.name}' loads into memory area '${rule.load}', which MEMORY does not have`);
    if (!config.memory.some((m) => m.name === rule.run)) throw new ConfigError(`${config.file}:${rule.line}: segment '${rule.name}' runs in memory area '${rule.run}', which MEMORY does not have`);
    placed.push({ name: rule.name, rule, sections, size, align, address: 0, loadAddress: 0, fillval: rule.fillval ?? 0, addrSize: sections[0]?.segment.addrSize ?? 'absolute' });
  }

  const defineSymbol = (name: string, value: number, label = true) => {
    if (!exports.has(name)) exports.set(name, { name, value, module: -1, label, addrSize: 'absolute', importers: [] });
  };
  // Config symbols: export and weak first, since memory areas may use them.
  const configValue = (e: ConfigExpr): number => {
    switch (e.kind) {
      case 'number': return e.value;
      case 'start': return startAddress;
      case 'neg': return -configValue(e.operand);
      case 'binary': {
        const l = configValue(e.left);
        const r = configValue(e.right);
        return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : Math.trunc(l / r);
      }
      case 'symbol': {
        const x = exports.get(e.name);
        if (!x) throw new ConfigError(`${config.file}:${e.line}: symbol '${e.name}' is not defined`);
        if (x.expr !== undefined) throw new ConfigError(`${config.file}:${e.line}: symbol '${e.name}' is not constant in the config`);
        x.importers.push({ module: -1, pos: [-1, e.line, 0] }); // the config uses it, as ld65 counts
        return x.value;
      }
    }
  };
  for (const s of config.symbols) {
    if (s.type === 'import') continue;
    if (exports.has(s.name)) {
      if (s.type === 'export') errors.push(`${config.file}:${s.line}: Duplicate external identifier: '${s.name}'`);
      continue;
    }
    const value = configValue(s.value!);
    exports.set(s.name, { name: s.name, value, module: -1, label: false, addrSize: 'absolute', importers: [] });
  }

  // Place the segments memory area by memory area.
  const fileSizes = new Map<string, number>();
  const memory: LinkResult['memory'] = [];
  for (const area of config.memory) {
    const fileName = area.file === '%O' ? output : area.file;
    const fileOffset = fileSizes.get(fileName) ?? 0;
    const start = configValue(area.start);
    if (area.define) defineSymbol(`__${area.name}_START__`, start);
    const size = configValue(area.size);
    let addr = start;
    let fillLevel = 0;
    let overflow = false;
    let fileSize = fileOffset;
    for (const seg of placed.filter((p) => p.rule.load === area.name || p.rule.run === area.name)) {
      const rule = seg.rule;
      const startAddr = addr;
      if (rule.run === area.name) {
        if (rule.align !== undefined) {
          const aligned = addr + alignCount(addr, rule.align);
          if (fillLevel === 0 && aligned > addr) warnings.push(`${config.file}:${rule.line}: The first segment in memory area '${area.name}' needs fill bytes for alignment.`);
          addr = aligned;
        } else if (rule.start !== undefined || rule.offset !== undefined) {
          const wanted = rule.start ?? start + rule.offset!;
          if (rule.type === 'overwrite') addr = wanted;
          else if (wanted < addr) {
            overflow = true;
            errors.push(`${config.file}:${rule.line}: Segment '${rule.name}' ${rule.offset !== undefined ? 'offset is too small' : 'start address is too low'} in '${area.name}' by ${addr - wanted} byte${addr - wanted === 1 ? '' : 's'}`);
          } else addr = wanted;
        }
        const check = rule.start ?? (rule.offset !== undefined ? rule.offset + start : rule.align ?? 1);
        if (check % seg.align !== 0) warnings.push(`${config.file}:${rule.line}: Segment '${rule.name}' isn't aligned properly; the resulting executable might not be functional.`);
        seg.address = addr;
      } else if (rule.alignLoad !== undefined) addr += alignCount(addr, rule.alignLoad);
      if (rule.load === area.name) {
        seg.loadAddress = addr;
        if (rule.fillval === undefined) seg.fillval = area.fillval;
      }
      fillLevel = addr + seg.size - start;
      if (fillLevel > size && !overflow) {
        overflow = true;
        errors.push(`${config.file}:${area.line}: Segment '${rule.name}' overflows memory area '${area.name}' by ${fillLevel - size} byte${fillLevel - size === 1 ? '' : 's'}`);
      }
      if (rule.define) {
        if (rule.run === area.name) {
          defineSymbol(`__${rule.name}_RUN__`, addr);
          defineSymbol(`__${rule.name}_SIZE__`, seg.size, false);
        }
        if (rule.load === area.name) defineSymbol(`__${rule.name}_LOAD__`, addr);
      }
      addr += seg.size;
      const bss = rule.type === 'bss' || rule.type === 'zp';
      if (rule.load === area.name && (!bss || area.fill) && rule.type !== 'overwrite') fileSize += addr - startAddr;
    }
    if (area.define) {
      defineSymbol(`__${area.name}_SIZE__`, size, false);
      defineSymbol(`__${area.name}_LAST__`, start + fillLevel);
      defineSymbol(`__${area.name}_FILEOFFS__`, fileOffset, false);
    }
    if (area.fill && fillLevel < size) fileSize = fileOffset + size;
    if (area.file !== '') fileSizes.set(fileName, Math.max(fileSize, fileSizes.get(fileName) ?? 0));
    memory.push({ area, start, size, used: fillLevel, fileOffset });
  }

  // Imports resolve to exports; the config's imports must be there.
  const baseOf = new Map<string, number>();
  for (const seg of placed) for (const s of seg.sections) baseOf.set(`${s.module}:${s.segment.name}`, seg.address + s.offset);
  const sectionBase = (module: number, segment: string) => baseOf.get(`${module}:${segment}`);
  const unresolved = new Map<string, string[]>();
  modules.forEach((m, i) => {
    for (const imp of m.imports) {
      const e = exports.get(imp.name);
      if (!e) {
        let list = unresolved.get(imp.name);
        if (!list) unresolved.set(imp.name, (list = []));
        for (const p of imp.pos) list.push(`${m.files[p[0]]?.name ?? m.source}(${p[1]})`);
        continue;
      }
      // One import a module, where it is first declared; ld65 keeps the newest first.
      e.importers.unshift({ module: i, pos: imp.pos[0] ?? [0, 0, 0] });
    }
  });
  for (const s of config.symbols) if (s.type === 'import' && !exports.has(s.name)) unresolved.set(s.name, [`${config.file}(${s.line})`]);
  for (const f of forcedImports) {
    const e = exports.get(f.name);
    const m = modules[f.module];
    if (e) e.importers.unshift({ module: f.module, pos: f.pos });
    else unresolved.set(f.name, [...(unresolved.get(f.name) ?? []), `${m.files[f.pos[0]]?.name ?? m.source}(${f.pos[1]})`]);
  }
  for (const [name, where] of unresolved) errors.push(`Unresolved external '${name}' referenced in:\n    ${where.join('\n    ')}`);

  // Export values.
  const resolving = new Set<string>();
  const exportValue = (name: string): number => {
    const e = exports.get(name);
    if (!e) throw new LinkError(`Unresolved external '${name}'`);
    if (e.expr === undefined) return e.value;
    if (resolving.has(name)) throw new LinkError(`Circular reference for symbol '${name}'`);
    resolving.add(name);
    try {
      e.value = valueIn(e.module, e.expr);
      e.expr = undefined;
      return e.value;
    } finally {
      resolving.delete(name);
    }
  };
  let moduleNow = 0;
  const base = (kind: 'seg' | 'imp', name: string) => {
    if (kind === 'imp') return exportValue(name);
    const b = sectionBase(moduleNow, name);
    if (b === undefined) throw new LinkError(`segment '${name}' has no place`);
    return b;
  };
  const valueIn = (module: number, expr: LinkExpr): number => {
    if (typeof expr === 'number') return expr;
    const outer = moduleNow;
    moduleNow = module;
    try {
      return evalLinkExpr(expr, base);
    } finally {
      moduleNow = outer;
    }
  };
  for (const name of [...exports.keys()]) {
    try {
      exportValue(name);
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      if (unresolved.size === 0) errors.push(`${err.message} (export '${name}')`);
      exports.get(name)!.expr = undefined;
    }
  }

  // The files.
  const files = new Map<string, Uint8Array>();
  const data = new Map<string, { bytes: Uint8Array; pos: number }>();
  for (const [name, size] of fileSizes) {
    if (size > MAX_OUTPUT) {
      errors.push(`Output file '${name}' would be ${size} bytes, more than the ${MAX_OUTPUT} this linker writes (a memory area with fill = yes and a huge size?)`);
      fileSizes.delete(name);
    } else data.set(name, { bytes: new Uint8Array(size), pos: 0 });
  }
  const segmentImage = (seg: PlacedSegment): Uint8Array => {
    const out = new Uint8Array(seg.size);
    seg.sections.forEach((s, k) => {
      out.fill(k === 0 ? -1 : seg.fillval, s.offset - s.fill, s.offset); // the first part's fill: the memory area's, set below
      out.set(bytesOfHex(s.segment.data), s.offset);
      for (const [off, n] of s.segment.fills ?? []) out.fill(seg.fillval, s.offset + off, s.offset + off + n);
      const m = modules[s.module] ?? { files: [], source: '[linker generated]' };
      for (const f of s.segment.fixups) {
        let v: number;
        try {
          v = valueIn(s.module, f.expr);
        } catch (err) {
          if (!(err instanceof LinkError)) throw err;
          if (unresolved.size === 0) errors.push(`${err.message} in module '${names[s.module]}', line ${f.pos[1]}`);
          continue;
        }
        if (!fits(v, f.size, f.check)) {
          errors.push(`Range error in module '${names[s.module]}', line ${f.pos[1]} (${m.files[f.pos[0]]?.name ?? m.source}:${f.pos[1]}:${f.pos[2]}: value ${v} does not fit in ${Math.abs(f.size)} byte${Math.abs(f.size) === 1 ? '' : 's'})`);
          continue;
        }
        writeValue(out, s.offset + f.offset, f.size, v);
      }
    });
    return out;
  };
  for (const { area } of memory) {
    if (area.file === '') continue;
    const fileName = area.file === '%O' ? output : area.file;
    const file = data.get(fileName);
    if (!file) continue;
    const m = memory.find((x) => x.area === area)!;
    file.pos = m.fileOffset;
    const write = (bytes: ArrayLike<number>) => {
      file.bytes.set(bytes as Uint8Array, file.pos);
      file.pos += bytes.length;
    };
    const fill = (value: number, n: number) => {
      if (n > 0) file.bytes.fill(value, file.pos, file.pos + n);
      file.pos += Math.max(0, n);
    };
    let addr = m.start;
    for (const seg of placed.filter((p) => p.rule.load === area.name || p.rule.run === area.name)) {
      const rule = seg.rule;
      const bss = rule.type === 'bss' || rule.type === 'zp';
      const doWrite = !bss && rule.load === area.name;
      if (rule.run === area.name) {
        if (rule.align !== undefined) {
          const aligned = addr + alignCount(addr, rule.align);
          if (doWrite || area.fill) fill(area.fillval, aligned - addr);
          addr = aligned;
        } else if (rule.start !== undefined || rule.offset !== undefined) {
          const wanted = rule.start ?? m.start + rule.offset!;
          if (doWrite || area.fill) {
            if (rule.type === 'overwrite') file.pos = wanted - m.start + m.fileOffset;
            else fill(area.fillval, wanted - addr);
          }
          addr = wanted;
        }
      } else if (rule.alignLoad !== undefined) {
        const aligned = addr + alignCount(addr, rule.alignLoad);
        if (doWrite || area.fill) fill(area.fillval, aligned - addr);
        addr = aligned;
      }
      if (doWrite || rule.type === 'overwrite') {
        seg.outputName = fileName;
        seg.outputOffset = file.pos;
        const image = segmentImage(seg);
        const firstFill = seg.sections[0]?.fill ?? 0;
        image.fill(area.fillval, 0, firstFill);
        write(image);
      } else if (area.fill) fill(seg.fillval, seg.size);
      addr += seg.size;
    }
    if (area.fill && m.used < m.size) fill(area.fillval, m.size - m.used);
  }
  for (const [name, f] of data) files.set(name, f.bytes);

  // Assertions.
  modules.forEach((m, i) => {
    for (const a of m.assertions) {
      let v: number;
      try {
        v = valueIn(i, a.expr);
      } catch (err) {
        if (!(err instanceof LinkError)) throw err;
        continue;
      }
      if (v === 0) (a.action === 'error' ? errors : warnings).push(`${m.files[a.pos[0]]?.name ?? m.source}:${a.pos[1]}: ${a.message}`);
    }
  });

  const result: LinkResult = {
    errors, warnings, files, segments: placed, exports, labels: '', map: '', modules, names, configFile: config.file, memory, sectionBase,
  };
  result.labels = labelFile(result);
  result.map = mapFile(result);
  return result;
}

class LinkError extends Error {}

function fits(v: number, size: number, check: string): boolean {
  const n = Math.abs(size);
  if (check === 'branch') return v >= -128 && v <= 127;
  if (check === 'any') return true;
  if (v < 0) return false;
  return n >= 4 ? v <= 0xffffffff : v < 2 ** (8 * n);
}

const hex = (n: number, digits: number) => (n >>> 0).toString(16).toUpperCase().padStart(digits, '0');
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const addrSizeCode = (s: string) => (s === 'zeropage' ? 'Z' : s === 'absolute' ? 'A' : s === 'far' ? 'F' : 'L');

/** ld65's -Ln file: "al 00XXXX .name" for each export, then each module's debug labels. */
function labelFile(r: LinkResult): string {
  let text = '';
  for (const e of [...r.exports.values()].sort((a, b) => byName(a.name, b.name))) text += `al ${hex(e.value, 6)} .${e.name}\n`;
  const seen = new Set<string>();
  r.modules.forEach((m, i) => {
    for (const s of m.debug?.symbols ?? []) {
      if (!s.label || s.visibility === 'import') continue;
      let v: number;
      try {
        v = evalLinkExpr(s.value, (kind, name) => {
          if (kind === 'imp') return r.exports.get(name)?.value ?? 0;
          return r.sectionBase(i, name) ?? 0;
        });
      } catch {
        continue;
      }
      const key = `${s.name}\0${v}`;
      if (seen.has(key)) continue;
      seen.add(key);
      text += `al ${hex(v, 6)} .${s.name}\n`;
    }
  });
  return text;
}

/** ld65's -m file: modules, segments, exports by name and by value, imports. */
function mapFile(r: LinkResult): string {
  let text = 'Modules list:\n-------------\n';
  r.modules.forEach((m, i) => {
    text += `${r.names[i]}:\n`;
    for (const own of m.segments) {
      for (const s of r.segments.find((p) => p.name === own.name)?.sections ?? []) {
        if (s.module !== i || s.segment.data.length === 0) continue;
        text += `    ${s.segment.name.padEnd(17)} Offs=${hex(s.offset, 6)}  Size=${hex(s.segment.data.length / 2, 6)}  Align=${hex(s.segment.align, 5)}  Fill=${hex(s.fill, 4)}\n`;
      }
    }
  });
  text += '\n\nSegment list:\n-------------\n';
  text += 'Name                   Start     End    Size  Align\n----------------------------------------------------\n';
  const segs = r.segments.filter((s) => s.size > 0).sort((a, b) => a.address - b.address || byName(a.name, b.name));
  for (const s of segs) text += `${s.name.padEnd(20)}  ${hex(s.address, 6)}  ${hex(s.address + s.size - 1, 6)}  ${hex(s.size, 6)}  ${hex(s.align, 5)}\n`;
  const listed = [...r.exports.values()].filter((e) => e.importers.length > 0 || e.condes).sort((a, b) => byName(a.name, b.name));
  const exportRows = (list: LinkedExport[]) => {
    let out = '';
    let count = 0;
    for (const e of list) {
      out += `${e.name.padEnd(25)} ${hex(e.value, 6)} ${e.importers.length ? 'R' : ' '}${e.label ? 'L' : 'E'}${addrSizeCode(e.addrSize)}${e.condes ? 'I' : ' '}   `;
      if (++count === 2) {
        count = 0;
        out += '\n';
      }
    }
    return out + '\n';
  };
  text += '\n\nExports list by name:\n---------------------\n' + exportRows(listed);
  text += '\n\nExports list by value:\n----------------------\n' + exportRows([...listed].sort((a, b) => a.value - b.value || byName(a.name, b.name)));
  text += '\n\nImports list:\n-------------\n';
  for (const e of listed.filter((x) => x.importers.length > 0)) {
    text += `${e.name} (${e.module < 0 ? '[linker generated]' : r.names[e.module]}):\n`;
    for (const imp of e.importers) {
      if (imp.module < 0) {
        text += imp.pos[1] ? `    ${'[linker generated]'.padEnd(25)} ${r.configFile}(${imp.pos[1]})\n` : `    ${'[linker generated]'.padEnd(25)}\n`;
        continue;
      }
      const m = r.modules[imp.module];
      text += `    ${r.names[imp.module].padEnd(25)} ${m.files[imp.pos[0]]?.name ?? m.source}(${imp.pos[1]})\n`;
    }
  }
  return text + '\n';
}

/** One module without a config, for the assembler's one-step output: see assembler.ts. */
export function linkImage(
  module: ObjectModule,
  org: number,
  marks: Map<string, Array<{ offset: number; address?: number }>>,
  lineAt: (segment: string, offset: number) => { file: string; line: number } | undefined = () => undefined,
) {
  const errors: AsmError[] = [];
  const bases = new Map<string, number>();
  let next = org;
  const uninitialized = (s: ObjSegment) => s.addrSize === 'zeropage' || s.name === 'BSS';
  let zp = 0;
  const order = [...module.segments.filter((s) => !uninitialized(s)), ...module.segments.filter(uninitialized)];
  for (const s of order) {
    const size = s.data.length / 2;
    if (s.addrSize === 'zeropage') {
      bases.set(s.name, zp);
      zp += size;
      continue;
    }
    next += alignCount(next, s.align);
    bases.set(s.name, next);
    next += size;
  }
  const addressOf = (segment: string, offset: number): number | undefined => {
    const base = bases.get(segment);
    if (base === undefined) return undefined;
    let at = base + offset;
    for (const m of marks.get(segment) ?? []) {
      if (m.offset > offset) break;
      at = m.address === undefined ? base + offset : m.address + offset - m.offset;
    }
    return at;
  };
  const imageBase = (kind: 'seg' | 'imp', name: string) => {
    if (kind === 'imp') throw new Error(`'${name}' is imported: one file has no linker to give it a value (hyper6502 link)`);
    return bases.get(name) ?? 0;
  };
  const image = new Uint8Array(0x10000);
  const writer = new Int32Array(0x10000).fill(-1);
  const written = new Map<string, Uint8Array>();
  let low = 0x10000;
  let high = -1;
  for (const s of module.segments) {
    const bytes = bytesOfHex(s.data);
    for (const f of s.fixups) {
      let v: number;
      try {
        v = evalLinkExpr(f.expr, imageBase);
      } catch (err) {
        errors.push({ file: module.files[f.pos[0]]?.name ?? module.source, line: f.pos[1], column: f.pos[2], message: (err as Error).message });
        continue;
      }
      if (f.check === 'branch' && (v < -128 || v > 127)) {
        errors.push({ file: module.files[f.pos[0]]?.name ?? module.source, line: f.pos[1], column: f.pos[2], message: `branch out of range: the target is ${v > 0 ? '+' : ''}${v} bytes from the next instruction (a branch reaches -128 to +127)` });
        continue;
      }
      if (!fits(v, f.size, f.check)) {
        const max = 2 ** (8 * Math.abs(f.size)) - 1;
        errors.push({ file: module.files[f.pos[0]]?.name ?? module.source, line: f.pos[1], column: f.pos[2], message: `value $${hex(v, 4)} is out of range (0 to $${hex(max, 2)})` });
        continue;
      }
      writeValue(bytes, f.offset, f.size, v);
    }
    written.set(s.name, bytes);
    if (uninitialized(s)) continue;
    for (let i = 0; i < bytes.length; i++) {
      const a = addressOf(s.name, i)!;
      if (a > 0xffff || a < 0) {
        errors.push({ file: module.source, line: 0, column: 1, message: `segment ${s.name} runs past $FFFF` });
        break;
      }
      if (writer[a] >= 0) {
        const first = lineAt(s.name, writer[a] & 0xffffff);
        const second = lineAt(s.name, i);
        errors.push({ file: second?.file ?? module.source, line: second?.line ?? 0, column: 1, message: `$${a.toString(16).toUpperCase().padStart(a > 0xff ? 4 : 2, '0')} is written twice${first ? `: first by ${first.file}:${first.line}` : ''}` });
        break;
      }
      writer[a] = i;
      image[a] = bytes[i];
      low = Math.min(low, a);
      high = Math.max(high, a);
    }
  }
  const origin = high < 0 ? org : low;
  return {
    errors,
    origin,
    bytes: high < 0 ? new Uint8Array(0) : image.slice(low, high + 1),
    segmentBase: (name: string) => bases.get(name),
    addressOf,
    bytesOf: (segment: string, offset: number, size: number) => Array.from(written.get(segment)?.subarray(offset, offset + size) ?? []),
  };
}
