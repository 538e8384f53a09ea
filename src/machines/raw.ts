// `raw`: a binary in 64 KiB of RAM, loaded at --load (default $0000), started
// from the reset vector or --start. Nothing else: no devices, no console.
import type { MachineSpec } from '../machine/description.js';

export const raw: MachineSpec = {
  name: 'raw',
  title: '64 KiB of RAM and nothing else: a binary at --load (default $0000), started at the reset vector or --start',
  memory: [{ start: 0x0000, end: 0xffff, kind: 'ram' }],
  program: { address: 0x0000 },
};
