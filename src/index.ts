// hyper6502's API for Node and the browser (nothing here needs Node's
// built-ins; Node-only helpers are in 'hyper6502/node').
//
// How to drive this:
//   import { Machine, boardDescription } from 'hyper6502';
//   const board = boardDescription({ rom, output: (b) => print(b) });
//   const m = await Machine.create(board.description);
//   m.run(1_000_000);
// or, closer to the metal:
//   const core = await CoreMemory.create();
//   const cpu = core.cpu(0, '6502');
//   cpu.ram.set(program, 0x0200); cpu.pc = 0x0200;
//   cpu.run(1_000_000);

export { CoreMemory, Cpu, ExitReason, EXIT_NAMES, PageAttr, MAX_BUDGET, type BusCycle } from './core/cpu.js';
export { loadCoreModule } from './core/wasm.js';
export { opcodeTable, CPU_MODELS, CPU_VARIANTS, parseCpuModel, trapOpcodes, type CpuModel, type CpuVariant, type OpcodeInfo, type AddressingMode } from './isa/opcodes.js';
export { disassemble, disassembleRange, formatInstruction, type Instruction, type MemoryReader } from './isa/disasm.js';

export {
  Machine,
  type MachineDescription,
  type MachineExit,
  type ExitKind,
  type MemoryRegion,
  type MemoryKind,
  type DeviceMapping,
  type TrapHandler,
} from './machine/machine.js';
export { Debugger, type Registers, type DebuggerOptions } from './machine/debugger.js';

export { StateReader, StateWriter, type Device, type DeviceContext } from './devices/device.js';
export { Acia6551, type AciaOptions } from './devices/acia6551.js';
export { Via6522, type ViaOptions } from './devices/via6522.js';
export { Keyboard, type KeyboardOptions } from './devices/keyboard.js';
export { Easy6502Screen, TextScreen, EASY6502_PALETTE, type TextScreenOptions } from './devices/display.js';
export { BlockStorage, MemoryBlockStore, SECTOR_SIZE, type BlockStore } from './devices/storage.js';
export { RandomSource, type RngOptions } from './devices/rng.js';
export { PowerRegister } from './devices/power.js';

export {
  parseSim65,
  isSim65,
  Sim65Host,
  sim65Description,
  Sim65FormatError,
  type Sim65Program,
  type Sim65HostOptions,
  type GuestFileSystem,
  type OpenMode,
  type InputSource,
} from './profiles/sim65.js';
export { easy6502Description, EASY6502_START, type Easy6502Options } from './profiles/easy6502.js';
export { boardDescription, BOARD, type BoardOptions } from './profiles/board.js';

export { assemble, resolveInclude, type AsmOptions, type AsmResult, type AsmError } from './asm/assembler.js';
export { formatAsmError, formatSymbols, sim65Program } from './asm/output.js';

export { Hypervisor, Vm, type HypervisorOptions, type PoolMetrics, type OutputListener, type StateListener } from './hypervisor/hypervisor.js';
export { VmStateError, QUANTUM, EXIT_COST, type VmState, type Schedule, type VmMetrics, type VmEvent } from './hypervisor/vm-host.js';
export { SnapshotError, FORMAT_VERSION, type SnapshotErrorCode } from './hypervisor/snapshot.js';
export { type VmSpec } from './hypervisor/spec.js';
