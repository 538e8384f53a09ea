// ld65 linker configuration files: MEMORY, SEGMENTS, FILES, FEATURES, SYMBOLS.
//
// How to drive this:
//   const config = parseLinkerConfig(text, 'c64.cfg');   // throws ConfigError "c64.cfg:12: ..." for bad input
//   config.memory[0].start      // a ConfigExpr: evaluate with the linker's symbols
//
// Values are numbers ($hex, %bin, decimal), names, strings, %O (the output
// file) and %S (the start address), and expressions of them with + - * /
// and parentheses, as ld65 reads them. `#` starts a comment.

export type ConfigExpr =
  | { kind: 'number'; value: number }
  | { kind: 'symbol'; name: string; line: number }
  | { kind: 'start' }
  | { kind: 'binary'; op: string; left: ConfigExpr; right: ConfigExpr }
  | { kind: 'neg'; operand: ConfigExpr };

export interface MemoryArea {
  name: string;
  line: number;
  start: ConfigExpr;
  size: ConfigExpr;
  /** Output file: '%O' the main one, '' none, else a name. */
  file: string;
  type: 'ro' | 'rw';
  fill: boolean;
  fillval: number;
  define: boolean;
}

export interface SegmentRule {
  name: string;
  line: number;
  load: string;
  run: string;
  type: 'ro' | 'rw' | 'bss' | 'zp' | 'overwrite';
  define: boolean;
  optional: boolean;
  align?: number;
  alignLoad?: number;
  start?: number;
  offset?: number;
  fillval?: number;
}

export interface SymbolRule {
  name: string;
  line: number;
  type: 'export' | 'import' | 'weak';
  value?: ConfigExpr;
}

export interface CondesRule {
  type: string;
  label: string;
  count?: string;
  segment: string;
  order: 'increasing' | 'decreasing';
  import?: string;
}

export interface LinkerConfig {
  file: string;
  memory: MemoryArea[];
  segments: SegmentRule[];
  symbols: SymbolRule[];
  condes: CondesRule[];
  /** FEATURES { STARTADDRESS: default = ... } */
  startAddress?: number;
  /** FILES { name: format = bin } */
  formats: Record<string, string>;
}

export class ConfigError extends Error {}

type Tok = { kind: 'name' | 'number' | 'string' | 'punct' | 'percent'; text: string; value: number; line: number };

function lex(text: string, file: string): Tok[] {
  const out: Tok[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      out.push({ kind: 'name', text: m, value: 0, line });
      i += m.length;
    } else if (c === '$' || /[0-9]/.test(c) || (c === '%' && /[01]/.test(text[i + 1] ?? ''))) {
      const m = c === '$' ? /^\$[0-9A-Fa-f]+/.exec(text.slice(i)) : c === '%' ? /^%[01]+/.exec(text.slice(i)) : /^[0-9]+/.exec(text.slice(i));
      if (!m) throw new ConfigError(`${file}:${line}: bad number`);
      const t = m[0];
      const value = c === '$' ? parseInt(t.slice(1), 16) : c === '%' ? parseInt(t.slice(1), 2) : parseInt(t, 10);
      out.push({ kind: 'number', text: t, value, line });
      i += t.length;
    } else if (c === '%') {
      const n = text[i + 1];
      if (n !== 'O' && n !== 'S') throw new ConfigError(`${file}:${line}: unknown %${n ?? ''} (ld65 knows %O, the output file, and %S, the start address)`);
      out.push({ kind: 'percent', text: '%' + n, value: 0, line });
      i += 2;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0 || text.slice(i, end).includes('\n')) throw new ConfigError(`${file}:${line}: unterminated string`);
      out.push({ kind: 'string', text: text.slice(i + 1, end), value: 0, line });
      i = end + 1;
    } else if ('{}:;,=+-*/()'.includes(c)) {
      out.push({ kind: 'punct', text: c, value: 0, line });
      i++;
    } else throw new ConfigError(`${file}:${line}: unexpected character '${c}'`);
  }
  return out;
}

export function parseLinkerConfig(text: string, file: string): LinkerConfig {
  const toks = lex(text, file);
  let p = 0;
  const config: LinkerConfig = { file, memory: [], segments: [], symbols: [], condes: [], formats: {} };
  const lineNow = () => toks[Math.min(p, toks.length - 1)]?.line ?? 1;
  const fail = (message: string): never => {
    throw new ConfigError(`${file}:${lineNow()}: ${message}`);
  };
  const peek = () => toks[p];
  const next = () => toks[p++] ?? fail('unexpected end of file');
  const expect = (text: string) => {
    const t = next();
    if (t.text !== text || (t.kind !== 'punct' && t.kind !== 'name')) fail(`expected '${text}', found '${t.text}'`);
  };
  const isPunct = (text: string) => peek()?.kind === 'punct' && peek()!.text === text;

  const primary = (): ConfigExpr => {
    const t = next();
    if (t.kind === 'number') return { kind: 'number', value: t.value };
    if (t.kind === 'name') return { kind: 'symbol', name: t.text, line: t.line };
    if (t.kind === 'percent' && t.text === '%S') return { kind: 'start' };
    if (t.kind === 'punct' && t.text === '(') {
      const e = sum();
      expect(')');
      return e;
    }
    if (t.kind === 'punct' && t.text === '-') return { kind: 'neg', operand: primary() };
    if (t.kind === 'punct' && t.text === '+') return primary();
    return fail(`expected a value, found '${t.text}'`);
  };
  const product = (): ConfigExpr => {
    let e = primary();
    while (isPunct('*') || isPunct('/')) e = { kind: 'binary', op: next().text, left: e, right: primary() };
    return e;
  };
  const sum = (): ConfigExpr => {
    let e = product();
    while (isPunct('+') || isPunct('-')) e = { kind: 'binary', op: next().text, left: e, right: product() };
    return e;
  };
  const constant = (name: string): number => {
    const e = sum();
    if (e.kind !== 'number') fail(`${name} must be a number here`);
    return (e as { value: number }).value;
  };
  const word = (): string => {
    const t = next();
    if (t.kind !== 'name' && t.kind !== 'string' && t.kind !== 'percent') fail(`expected a name, found '${t.text}'`);
    return t.text;
  };
  const yesNo = (name: string): boolean => {
    const w = word().toLowerCase();
    if (w !== 'yes' && w !== 'no') fail(`${name} must be yes or no, not '${w}'`);
    return w === 'yes';
  };

  /** NAME: attr = value, attr = value; ... until '}'. */
  const entries = (each: (name: string, line: number, attrs: Map<string, () => unknown>) => void, attrNames: Record<string, (n: string) => unknown>) => {
    expect('{');
    while (!isPunct('}')) {
      const nameTok = next();
      if (nameTok.kind !== 'name' && nameTok.kind !== 'percent' && nameTok.kind !== 'string') fail(`expected a name, found '${nameTok.text}'`);
      expect(':');
      const attrs = new Map<string, () => unknown>();
      const values = new Map<string, unknown>();
      while (!isPunct(';')) {
        if (isPunct('}') || p >= toks.length) fail(`expected ';' after the attributes of ${nameTok.text}`);
        const a = next();
        const key = a.text.toLowerCase();
        const reader = attrNames[key];
        if (!reader) fail(`unknown attribute '${a.text}' for ${nameTok.text}`);
        expect('=');
        if (values.has(key)) fail(`attribute '${a.text}' given twice`);
        values.set(key, reader(key));
        if (isPunct(',')) next();
      }
      next();
      for (const [k, v] of values) attrs.set(k, () => v);
      each(nameTok.text, nameTok.line, attrs);
    }
    next();
  };
  const get = <T>(attrs: Map<string, () => unknown>, key: string): T | undefined => attrs.get(key)?.() as T | undefined;

  while (p < toks.length) {
    const section = next();
    const upper = section.text.toUpperCase();
    if (upper === 'MEMORY') {
      entries((name, line, a) => {
        const start = get<ConfigExpr>(a, 'start');
        const size = get<ConfigExpr>(a, 'size');
        if (!start) fail(`memory area ${name} has no start`);
        if (!size) fail(`memory area ${name} has no size`);
        const type = (get<string>(a, 'type') ?? 'rw').toLowerCase();
        if (type !== 'ro' && type !== 'rw') fail(`memory area ${name}: type must be ro or rw`);
        config.memory.push({
          name, line, start: start!, size: size!, file: get<string>(a, 'file') ?? '%O', type: type as 'ro',
          fill: get<boolean>(a, 'fill') ?? false, fillval: get<number>(a, 'fillval') ?? 0, define: get<boolean>(a, 'define') ?? false,
        });
      }, {
        start: sum, size: sum, file: word, type: word, fill: yesNo, fillval: constant, define: yesNo, bank: sum,
      });
    } else if (upper === 'SEGMENTS') {
      entries((name, line, a) => {
        const load = get<string>(a, 'load');
        if (!load) fail(`segment ${name} has no load memory area`);
        const type = (get<string>(a, 'type') ?? 'ro').toLowerCase();
        if (!['ro', 'rw', 'bss', 'zp', 'overwrite'].includes(type)) fail(`segment ${name}: type must be ro, rw, bss, zp or overwrite`);
        config.segments.push({
          name, line, load: load!, run: get<string>(a, 'run') ?? load!, type: type as 'ro', define: get<boolean>(a, 'define') ?? false,
          optional: get<boolean>(a, 'optional') ?? false, align: get<number>(a, 'align'), alignLoad: get<number>(a, 'align_load'),
          start: get<number>(a, 'start'), offset: get<number>(a, 'offset'), fillval: get<number>(a, 'fillval'),
        });
      }, {
        load: word, run: word, type: word, define: yesNo, optional: yesNo, align: constant, align_load: constant,
        start: constant, offset: constant, fillval: constant,
      });
    } else if (upper === 'SYMBOLS') {
      entries((name, line, a) => {
        const type = (get<string>(a, 'type') ?? 'export').toLowerCase();
        if (!['export', 'import', 'weak'].includes(type)) fail(`symbol ${name}: type must be export, import or weak`);
        const value = get<ConfigExpr>(a, 'value');
        if (type !== 'import' && !value) fail(`symbol ${name} has no value`);
        config.symbols.push({ name, line, type: type as 'export', value });
      }, { type: word, value: sum, addrsize: word });
    } else if (upper === 'FILES') {
      entries((name, _line, a) => {
        config.formats[name] = (get<string>(a, 'format') ?? 'bin').toLowerCase();
      }, { format: word });
    } else if (upper === 'FEATURES') {
      expect('{');
      while (!isPunct('}')) {
        const feature = word().toUpperCase();
        expect(':');
        const attrs = new Map<string, string>();
        while (!isPunct(';')) {
          const key = word().toLowerCase();
          expect('=');
          const t = next();
          attrs.set(key, t.kind === 'number' ? String(t.value) : t.text);
          if (isPunct(',')) next();
        }
        next();
        if (feature === 'STARTADDRESS') config.startAddress = Number(attrs.get('default') ?? 0x200);
        else if (feature === 'CONDES') {
          config.condes.push({
            type: attrs.get('type') ?? '', label: attrs.get('label') ?? '', count: attrs.get('count'), segment: attrs.get('segment') ?? '',
            order: (attrs.get('order') ?? 'increasing') as 'increasing', import: attrs.get('import'),
          });
        } else fail(`unknown feature ${feature} (ld65 has CONDES and STARTADDRESS)`);
      }
      next();
    } else if (upper === 'FORMATS') {
      // o65 and other formats' options: only the bin format is written here.
      expect('{');
      let depth = 1;
      while (depth) {
        const t = next();
        if (t.text === '{') depth++;
        if (t.text === '}') depth--;
      }
    } else {
      fail(`unknown section '${section.text}' (ld65 has MEMORY, SEGMENTS, FILES, FORMATS, FEATURES, SYMBOLS)`);
    }
  }
  return config;
}
