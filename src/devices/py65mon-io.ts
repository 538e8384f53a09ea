// py65mon's memory-mapped character I/O, with the extensions of c65 (Tali
// Forth's simulator): what EhBASIC, Tali Forth 2 and other py65mon builds
// print and read through.
//
// How to drive this: map it at $F001, 4 addresses, and make it the machine's
// console. Offset 0 ($F001): a write prints the byte. Offset 3 ($F004): a
// read takes the next typed byte, or 0 when none waits (it never blocks).
// With `keyAvailable` (c65), offset 2 ($F003) reads non-zero while a key
// waits. The other addresses of the range are plain memory, as in py65mon.

import { type Device, type DeviceContext, type DeviceType } from './device.js';
import type { ConsolePort } from '../machine/console.js';

export interface Py65monIoOptions {
  console?: ConsolePort;
  /** c65's key-available register at offset 2. */
  keyAvailable?: boolean;
}

export class Py65monIo implements Device {
  readonly name = 'py65mon-io';
  private ctx?: DeviceContext;

  constructor(private readonly options: Py65monIoOptions = {}) {}

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  decodes(offset: number): boolean {
    return offset === 0 || offset === 3 || (offset === 2 && !!this.options.keyAvailable);
  }

  read(offset: number): number {
    if (offset === 3) {
      const byte = this.options.console?.read() ?? -1;
      if (byte >= 0) return byte;
      this.ctx?.idlePoll();
      return 0;
    }
    if (offset === 2) {
      if (this.options.console?.available) return 1;
      this.ctx?.idlePoll();
      return 0;
    }
    return 0;
  }

  write(offset: number, value: number) {
    if (offset === 0) this.options.console?.write(value);
  }
}

export const PY65MON_IO: DeviceType = {
  type: 'py65mon-io',
  summary: "py65mon's character I/O at $F001: +0 putc, +3 getc (0: none waits); +2 key available (c65)",
  size: 4,
  console: true,
  options: { keyAvailable: { kind: 'boolean', default: false, doc: "c65's key-available register at offset 2 ($F003)" } },
  create: (o, env) => new Py65monIo({ console: env.console, keyAvailable: o.keyAvailable as boolean }),
};
