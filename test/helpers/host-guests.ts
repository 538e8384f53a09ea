// The guests that host tests and the migration bench run, as specs.
//
// How to drive this: `specToJson(GUESTS.busy)` is the body of POST /vms.
//   busy:  changes a byte in every page, endlessly (QEMU's migration test guest)
//   echo:  py65; echoes each key, idle (parked) between keys
//   timer: the board; VIA timer interrupts, "tick N" lines, and an echo (examples/timer.s)

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../src/asm/assembler.ts';
import { BUSY_GUEST } from '../../src/cli/vms.ts';
import type { VmSpec } from '../../src/machine/description.ts';

const timer = join(import.meta.dirname, '../../examples/timer.s');

export const GUESTS = {
  busy: { machine: 'raw', program: BUSY_GUEST, load: 0x0200, start: 0x0200 },
  echo: { machine: 'py65', program: assemble('  .org $0200\nw: lda $F004\n  beq w\n  sta $F001\n  jmp w\n', { fileName: 'echo.s' }).bytes, load: 0x200, start: 0x200 },
  timer: { machine: 'board', program: assemble(readFileSync(timer, 'utf8'), { fileName: 'timer.s' }).bytes },
} satisfies Record<string, VmSpec>;
