// hyper6502's Node and browser API.
//
// How to drive this:
//   import { CoreMemory, ExitReason } from 'hyper6502';
//   const core = await CoreMemory.create();
//   const cpu = core.cpu(0, '6502');
//   cpu.ram.set(program, 0x0200); cpu.pc = 0x0200;
//   cpu.run(1_000_000);

export { CoreMemory, Cpu, ExitReason, EXIT_NAMES, PageAttr, MAX_BUDGET, type BusCycle } from './core/cpu.js';
export { loadCoreModule } from './core/wasm.js';
export { opcodeTable, CPU_MODELS, type CpuModel, type OpcodeInfo, type AddressingMode } from './isa/opcodes.js';
export { disassemble, disassembleRange, formatInstruction, type Instruction, type MemoryReader } from './isa/disasm.js';
