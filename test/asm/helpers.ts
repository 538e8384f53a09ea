// The same build as ld65Build (ca65.ts), through hyper6502's assembler and
// linker in memory: sources by name, a linker config, ca65-style arguments
// (-D NAME=VALUE, --cpu CPU, -g).
//
// How to drive this: `hyperBuild({ 'main.s': '...' }, cfg)` -> { files, labels, map }.

import { assemble } from '../../src/asm/assembler.ts';
import { link } from '../../src/asm/linker.ts';
import { parseLinkerConfig } from '../../src/asm/ldconfig.ts';
import { formatAsmError } from '../../src/asm/output.ts';
import { parseDefines } from '../../src/cli/asm.ts';
import type { Build } from './ca65.ts';

export function hyperBuild(sources: Record<string, string>, config: string, args: string[] = []): Build {
  const defines = parseDefines(args.flatMap((a, i) => (args[i - 1] === '-D' ? [a] : [])));
  const cpu = args.includes('--cpu') ? args[args.indexOf('--cpu') + 1] : undefined;
  const readFile = (path: string) => {
    if (!(path in sources)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return sources[path];
  };
  const modules = Object.keys(sources).filter((n) => n.endsWith('.s')).map((name) => {
    const r = assemble(sources[name], { fileName: name, readFile, defines, cpu, debugInfo: args.includes('-g') });
    const errors = r.errors.filter((e) => !r.imageErrors.includes(e));
    if (errors.length) throw new Error(errors.map(formatAsmError).join('\n'));
    return r.object;
  });
  const result = link(modules, parseLinkerConfig(config, 'link.cfg'), { output: 'out.bin', names: Object.keys(sources).filter((n) => n.endsWith('.s')).map((n) => n.replace(/\.s$/, '.o')) });
  if (result.errors.length) throw new Error(result.errors.join('\n'));
  return { files: Object.fromEntries(result.files), labels: result.labels, map: result.map };
}
