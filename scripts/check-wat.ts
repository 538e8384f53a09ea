// Checks the compiled core: each run loop's opcode switch must compile to a
// single `br_table` (an if-chain halves the speed); the fast loops must not call
// into the runtime, and must call their out-of-line rare-opcode function rather
// than inline it (V8 gives functions past a size limit a far weaker register
// allocator: the fast loops run at half speed when they grow past it).
//
// How to drive this: `npm run check:wat` after `npm run build:wasm` (it reads
// build/hyper6502.wat, which the release build writes). It checks the loops of
// every variant in CPU_VARIANTS (src/isa/opcodes.ts).

import { readFileSync } from 'node:fs';
import { CORE_LOOPS, CPU_VARIANTS, coreLoopName } from '../src/isa/opcodes.ts';

const wat = readFileSync(new URL('../build/hyper6502.wat', import.meta.url), 'utf8');
const failures: string[] = [];
for (const { model } of CPU_VARIANTS) {
  for (const loop of CORE_LOOPS) {
    const fn = coreLoopName(loop, model);
    const start = wat.indexOf(`(func $assembly/generated/cpu/${fn} `);
    if (start < 0) {
      failures.push(`${fn}: not found in build/hyper6502.wat`);
      continue;
    }
    const next = wat.indexOf('\n (func ', start + 1);
    const body = wat.slice(start, next < 0 ? undefined : next);
    const tables = [...body.matchAll(/br_table((?:\s+\$\S+)+)/g)].map((m) => m[1].trim().split(/\s+/).length);
    if (!tables.some((n) => n >= 256)) failures.push(`${fn}: no br_table with 256 targets (found ${tables.join(', ') || 'none'})`);
    if (loop !== 'debug') {
      if (/\(call \$~lib|call_indirect/.test(body)) failures.push(`${fn}: calls into the runtime or through a table`);
      // The rarely executed opcodes must stay out of line (see isRare in scripts/gen-core.ts); the
      // optimizer may call another variant's identical rare function instead.
      if (!body.includes('call $assembly/generated/cpu/rare_')) failures.push(`${fn}: rare_${model} was inlined or is not called`);
    }
    console.log(`${fn}: br_table of ${Math.max(0, ...tables)} targets, ${body.length} bytes of text`);
  }
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
