// The built-in machines: one file of data each. Adding a machine is one file
// here and one line below (or `registerMachine` from an embedder's code).
import type { MachineSpec } from '../machine/description.js';
import { raw } from './raw.js';
import { sim65 } from './sim65.js';
import { easy6502 } from './easy6502.js';
import { board } from './board.js';
import { py65 } from './py65.js';
import { apple1 } from './apple1.js';
import { eater } from './eater.js';

export const BUILT_IN_MACHINES: readonly MachineSpec[] = [raw, sim65, easy6502, board, py65, apple1, eater];
