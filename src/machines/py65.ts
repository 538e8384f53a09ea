// `py65`: py65mon's default machine, as EhBASIC's and Tali Forth 2's py65mon
// builds expect it: 64 KiB of RAM, character output at $F001, a getc at
// $F004 that reads 0 when no key waits, and c65's key-available register
// ($F003) and cycle counter ($F006-$F00B). BRK ends the run, as it returns
// to py65mon's prompt. 6502 by default; --cpu 65c02 for Tali Forth 2.
import type { MachineSpec } from '../machine/description.js';

export const py65: MachineSpec = {
  name: 'py65',
  title: "py65mon: 64 KiB RAM, putc $F001, getc $F004 (0: no key), c65's key available $F003 and cycle counter $F006; BRK ends",
  memory: [{ start: 0x0000, end: 0xffff, kind: 'ram' }],
  devices: [
    { type: 'py65mon-io', id: 'io', address: 0xf001, options: { keyAvailable: true } },
    { type: 'c65-cycle-counter', id: 'cycles', address: 0xf006 },
  ],
  console: { device: 'io', lineEnd: 'cr' },
  program: {},
  powerOff: 'brk',
  views: [{ kind: 'terminal' }],
};
