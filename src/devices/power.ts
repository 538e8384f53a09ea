// The power/exit register: the guest ends its run with an exit code.
//
// How to drive this: map it at 1 address; a write of V powers the machine
// off, and Machine.run returns { reason: 'exit', code: V }. Reads give 0.

import type { Device, DeviceContext, DeviceType } from './device.js';

export class PowerRegister implements Device {
  readonly name = 'power';
  private ctx?: DeviceContext;

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  read(): number {
    return 0;
  }

  write(_offset: number, value: number) {
    this.ctx?.powerOff(value);
  }
}

export const POWER: DeviceType = {
  type: 'power',
  summary: 'power register: a write of V ends the run with exit code V',
  size: 1,
  create: () => new PowerRegister(),
};
