// `sim65`: cc65 programs built with `cl65 -t sim6502` or `-t sim65c02`, as
// cc65's sim65 runs them (src/devices/sim65.ts has the paravirtual calls).
import type { MachineSpec } from '../machine/description.js';

export const sim65: MachineSpec = {
  name: 'sim65',
  title: "cc65's sim65: a sim65 program (its header says CPU, load and start) in 64 KiB of RAM; stdio, files, argv, exit by paravirtual calls",
  memory: [{ start: 0x0000, end: 0xffff, kind: 'ram', fill: 0xff }],
  devices: [{ type: 'sim65', id: 'sim65' }],
  console: { device: 'sim65', lineEnd: 'none' },
  program: { format: 'sim65' },
  registers: { s: 0xff, p: 0x30 },
  views: [{ kind: 'terminal' }],
};
