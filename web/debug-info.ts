// The debug info of the demo page's programs, with the sources it names: for
// assembly assembled in the page, what the project's linker writes for it
// (ld65's --dbgfile format, as `hyper6502 link --dbgfile` does); for the
// hello example, the hello.dbg cc65 made (scripts/build-hello.ts).
//
// How to drive this:
//   const { program, debug } = assembleWithDebugInfo(source, { fileName: 'pixels.s' });
//   debug.symbols.lineAt(0x0600);          // { file: 'pixels.s', line: 24 }
//   debug.sources.get('pixels.s');         // the text the source view shows
//   const hello = await fetchDebugInfo('examples/hello.dbg', 'examples/', 'examples/hello.lbl');  // hello.c and hello.s with it

import { assemble, link, parseLinkerConfig, writeDebugInfo, type AsmOptions, type AsmResult } from '../src/browser.js';
import { DebugSymbols } from '../src/debug/symbols.js';

export interface ProgramDebugInfo {
  symbols: DebugSymbols;
  /** The source files the page has, by the names the debug info gives them. */
  sources: Map<string, string>;
}

/**
 * Assembles as assemble() does, keeping the debug info. The one-step image
 * is linked again by a configuration that places its segments where the
 * image has them (the code from its origin, zero page from $00, BSS after
 * the code); when that link does not give the very same bytes (a layout only
 * `.org` makes), the debug info has the program's labels and no lines.
 */
export function assembleWithDebugInfo(source: string, options: AsmOptions & { fileName: string }, text?: (file: string) => string | undefined): { program: AsmResult; debug: ProgramDebugInfo | null } {
  const program = assemble(source, { ...options, debugInfo: true });
  if (!program.ok || program.bytes.length === 0) return { program, debug: null };
  const labels = DebugSymbols.fromTable(program.labels);
  const sources = new Map<string, string>();
  for (const f of program.object.files) {
    const t = f.name === options.fileName ? source : text?.(f.name);
    if (t !== undefined) sources.set(f.name, t);
  }
  const lines = linkedDebugInfo(program);
  return { program, debug: { symbols: lines ? lines.merge(labels) : labels, sources } };
}

function linkedDebugInfo(program: AsmResult): DebugSymbols | null {
  const hex = (n: number) => '$' + n.toString(16).toUpperCase();
  const segments = program.object.segments;
  const uninitialized = (s: (typeof segments)[number]) => s.addrSize === 'zeropage' || s.name === 'BSS';
  // As the one-step image places them: the segments with bytes in their order from the origin, then BSS.
  const placed = [...segments.filter((s) => !uninitialized(s)), ...segments.filter((s) => s.name === 'BSS' && s.addrSize !== 'zeropage')];
  if (segments.some((s) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name))) return null;
  const config = `MEMORY {
  ZP: start = $0000, size = $0100, type = rw;
  MAIN: start = ${hex(program.origin)}, size = ${hex(0x10000 - program.origin)}, type = rw, file = %O;
}
SEGMENTS {
${placed.map((s) => `  ${s.name}: load = MAIN, type = ${s.name === 'BSS' ? 'bss' : 'rw'};`).join('\n')}
${segments.filter((s) => s.addrSize === 'zeropage').map((s) => `  ${s.name}: load = ZP, type = zp;`).join('\n')}
}
`;
  try {
    const r = link([program.object], parseLinkerConfig(config, 'page.cfg'), { output: 'program.bin' });
    const bytes = r.files.get('program.bin');
    if (r.errors.length || !bytes || bytes.length !== program.bytes.length || bytes.some((b, i) => b !== program.bytes[i])) return null;
    return DebugSymbols.fromDebugInfo(writeDebugInfo(r));
  } catch {
    return null; // a layout the configuration cannot say: no lines
  }
}

/** ld65 debug info from `url` (and a label file, ld65's -Ln), with the sources it names that are found under `base` (by their names as given). */
export async function fetchDebugInfo(url: string, base: string, labels?: string): Promise<ProgramDebugInfo> {
  const text = async (u: string) => {
    const r = await fetch(u);
    if (!r.ok) throw new Error(`cannot load ${u}: HTTP ${r.status}`);
    return r.text();
  };
  const symbols = DebugSymbols.fromDebugInfo(await text(url));
  if (labels) symbols.merge(DebugSymbols.fromLabels(await text(labels), labels));
  const own = symbols.files.filter((f) => /^[\w.-]+$/.test(f)); // the program's own files, beside it (not the library's)
  const texts = await Promise.all(own.map(async (f) => {
    const s = await fetch(base + f);
    return s.ok ? await s.text() : undefined;
  }));
  const sources = new Map<string, string>();
  own.forEach((f, i) => texts[i] !== undefined && sources.set(f, texts[i]));
  return { symbols, sources };
}
