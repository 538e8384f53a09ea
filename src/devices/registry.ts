// The device types a machine description can name: each device file exports
// its class and its type; adding a device is one file and one line here.
//
// How to drive this: `deviceType('via6522')` gives a type (or throws, naming
// the known ones); `registerDeviceType(type)` adds one of an embedder's own
// before descriptions use it; `DEVICE_TYPES` lists them all.

import type { DeviceType } from './device.js';
import { ACIA6551 } from './acia6551.js';
import { VIA6522 } from './via6522.js';
import { PIA6821 } from './pia6821.js';
import { APPLE1_TERMINAL } from './apple1-terminal.js';
import { HD44780 } from './hd44780.js';
import { PY65MON_IO } from './py65mon-io.js';
import { C65_CYCLE_COUNTER } from './c65-cycle-counter.js';
import { KEYBOARD } from './keyboard.js';
import { RNG } from './rng.js';
import { POWER } from './power.js';
import { STORAGE } from './storage.js';
import { SIM65 } from './sim65.js';

const types = new Map<string, DeviceType>();

export function registerDeviceType(type: DeviceType) {
  if (!/^[a-z][a-z0-9-]*$/.test(type.type)) throw new Error(`device type name "${type.type}" must be lower-case letters, digits and dashes`);
  if (types.has(type.type)) throw new Error(`device type "${type.type}" is registered already`);
  types.set(type.type, type);
}

for (const t of [ACIA6551, VIA6522, PIA6821, APPLE1_TERMINAL, HD44780, PY65MON_IO, C65_CYCLE_COUNTER, KEYBOARD, RNG, POWER, STORAGE, SIM65]) registerDeviceType(t);

/** The type called `name`, or undefined. */
export function findDeviceType(name: string): DeviceType | undefined {
  return types.get(name);
}

export function deviceTypes(): DeviceType[] {
  return [...types.values()];
}
