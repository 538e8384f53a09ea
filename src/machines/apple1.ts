// `apple1`: the Apple 1. RAM $0000-$0FFF and $E000-$EFFF (where BASIC was
// loaded from tape), the 6821 PIA of its keyboard ($D010/$D011) and display
// ($D012/$D013), the Woz Monitor ROM at $FF00. Upper case only; CR ends a
// line, typed and shown.
import type { MachineSpec } from '../machine/description.js';

export const apple1: MachineSpec = {
  name: 'apple1',
  title: 'the Apple 1: RAM $0000-$0FFF and $E000-$EFFF, 6821 PIA keyboard/display at $D010, Wozmon ROM at $FF00',
  cpu: '6502',
  clockHz: 1_022_727,
  memory: [
    { start: 0x0000, end: 0x0fff, kind: 'ram' },
    { start: 0xe000, end: 0xefff, kind: 'ram' },
    { start: 0xff00, end: 0xffff, kind: 'rom', needs: 'the Woz Monitor ROM (--rom wozmon.bin@0xFF00)' },
  ],
  devices: [
    { type: 'pia6821', id: 'pia', address: 0xd010, irq: false },
    { type: 'apple1-terminal', id: 'terminal', options: { pia: 'pia' } },
  ],
  console: { device: 'terminal', lineEnd: 'cr', upperCase: true, crIsNewline: true },
  program: {},
  views: [{ kind: 'terminal' }],
};
