// hyper6502's API for Node and the browser (nothing here needs Node's
// built-ins; Node-only helpers are in 'hyper6502/node').
//
// How to drive this:
//   import { Machine } from 'hyper6502';
//   const m = await Machine.create({ machine: 'board', program: rom });
//   m.console.input('hello\r');
//   m.run(1_000_000);
//   m.console.takeOutput();
// or, closer to the metal:
//   const core = await CoreMemory.create();
//   const cpu = core.cpu(0, '6502');
//   cpu.ram.set(program, 0x0200); cpu.pc = 0x0200;
//   cpu.run(1_000_000);

export { CoreMemory, Cpu, ExitReason, EXIT_NAMES, PageAttr, MAX_BUDGET, type BusCycle } from './core/cpu.js';
export { loadCoreModule } from './core/wasm.js';
export type { CoreSource, WorkerSource, WorkerLike } from './platform/node.js';
export { opcodeTable, CPU_MODELS, CPU_VARIANTS, parseCpuModel, trapOpcodes, type CpuModel, type CpuVariant, type OpcodeInfo, type AddressingMode } from './isa/opcodes.js';
export { disassemble, disassembleRange, formatInstruction, type Instruction, type MemoryReader } from './isa/disasm.js';

export {
  Machine,
  type MachineParts,
  type MachineExit,
  type ExitKind,
  type RunOptions,
  type MemoryRegion,
  type MemoryKind,
  type DeviceMapping,
  type TrapHandler,
} from './machine/machine.js';
export {
  resolveSpec,
  checkMachine,
  registerMachine,
  findMachine,
  machineNames,
  specToJson,
  specFromJson,
  DescriptionError,
  type MachineSpec,
  type VmSpec,
  type MemorySpec,
  type DeviceSpec,
  type ConsoleSpec,
  type ProgramSpec,
  type ViewSpec,
  type Num,
  type Image,
} from './machine/description.js';
export { MachineConsole, hostOutput, OUTPUT_LIMIT, INPUT_LIMIT, type ConsoleOptions, type ConsolePort, type LineEnd } from './machine/console.js';
export { Debugger, type Registers, type DebuggerOptions } from './machine/debugger.js';

export { StateReader, StateWriter, checkOptions, type Device, type DeviceContext, type DeviceType, type DeviceEnv, type OptionSpec } from './devices/device.js';
export { registerDeviceType, findDeviceType, deviceTypes } from './devices/registry.js';
export { Acia6551, type AciaOptions } from './devices/acia6551.js';
export { Via6522, type ViaOptions } from './devices/via6522.js';
export { Pia6821, type PiaPeripheral } from './devices/pia6821.js';
export { Apple1Terminal } from './devices/apple1-terminal.js';
export { Hd44780, type Hd44780Wiring } from './devices/hd44780.js';
export { Py65monIo } from './devices/py65mon-io.js';
export { C65CycleCounter } from './devices/c65-cycle-counter.js';
export { Keyboard, type KeyboardOptions } from './devices/keyboard.js';
export { Easy6502Screen, TextScreen, EASY6502_PALETTE, type TextScreenOptions } from './devices/display.js';
export { BlockStorage, MemoryBlockStore, SECTOR_SIZE, type BlockStore } from './devices/storage.js';
export { RandomSource, type RngOptions } from './devices/rng.js';
export { PowerRegister } from './devices/power.js';
export { parseSim65, isSim65, Sim65Host, Sim65Device, Sim65FormatError, type Sim65Program, type Sim65HostOptions, type GuestFileSystem, type OpenMode, type InputSource } from './devices/sim65.js';

export { assemble, resolveInclude, type AsmOptions, type AsmResult, type AsmError, type ReadFile } from './asm/assembler.js';
export { formatAsmError, formatAsmWarning, formatSymbols, sim65Program } from './asm/output.js';
export { link, type LinkOptions, type LinkResult } from './asm/linker.js';
export { parseLinkerConfig, ConfigError, type LinkerConfig } from './asm/ldconfig.js';
export { writeObject, readObject, ObjectError, type ObjectModule } from './asm/object.js';
export { readDebugInfo, writeDebugInfo, DebugInfoError, type DebugInfo } from './asm/dbginfo.js';

export { Hypervisor, Vm, type HypervisorOptions, type PoolMetrics, type OutputListener, type StateListener } from './hypervisor/hypervisor.js';
export { VmStateError, QUANTUM, EXIT_COST, type VmState, type Schedule, type VmMetrics, type VmEvent } from './hypervisor/vm-host.js';
export { SnapshotError, FORMAT_VERSION, type SnapshotErrorCode } from './hypervisor/snapshot.js';
