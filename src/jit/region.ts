// What the JIT compiles: the code of one guest page, found from the places
// the guest was seen to run (seeds), as basic blocks.
//
// How to drive this:
//   const region = findRegion(cpu.ram, cpu.variant, page, seeds);
//   region.blocks        // straight-line runs of instructions, each from a leader
//   region.instructions  // every instruction start found in the page, for single steps
//   region.key           // what the compiled code depends on: the same key, the same code
// A block starts at a leader (a seed, a branch target, the instruction after a
// branch or a JSR) and ends after a control transfer, before an instruction
// the JIT leaves to the interpreter (see `compilable`), at $FFFF, or at
// MAX_BLOCK instructions. Blocks start in the page and may run on past its end.

import type { CpuVariant, OpcodeInfo } from '../isa/opcodes.js';
import { isTrapOpcode } from '../isa/opcodes.js';

/** Instructions in one block at most. */
export const MAX_BLOCK = 32;
/** Leaders in one region at most (the rest are left to the interpreter). */
export const MAX_LEADERS = 96;

export interface Instruction {
  pc: number;
  info: OpcodeInfo;
  /** The instruction's bytes, opcode first. */
  bytes: number[];
}

export interface Block {
  leader: number;
  instructions: Instruction[];
  /** The guest addresses [leader, end) the block's code was read from. */
  end: number;
  /** Cycles the block may take before its last instruction (see fits in src/jit/codegen.ts). */
  cyclesBeforeLast: number;
}

export interface Region {
  page: number;
  blocks: Block[];
  /** Every instruction start in the page that a block holds, ascending. */
  instructions: Instruction[];
  /** Leaders in other pages that blocks branch or jump to (hints for those pages). */
  elsewhere: number[];
  /** The model, the flavour, the leaders and the bytes of every instruction: the compiled code's identity. */
  key: string;
}

/** Transfers of control: a block ends after one. */
function endsBlock(info: OpcodeInfo): boolean {
  return info.mode === 'rel' || info.mode === 'zpr' || ['JMP', 'JSR', 'RTS', 'RTI'].includes(info.mnemonic);
}

/**
 * The JIT compiles every instruction except those that stop the CPU or may
 * trap to the host (isTrapOpcode: the NMOS JAMs, BRK, the one-cycle CMOS
 * NOPs), and WAI and STP: the interpreter runs those.
 */
export function compilable(info: OpcodeInfo): boolean {
  return !isTrapOpcode(info) && info.mnemonic !== 'WAI' && info.mnemonic !== 'STP';
}

/** The most cycles an instruction takes: its base cycles and every penalty it may pay. */
export function maxCycles(info: OpcodeInfo): number {
  return info.cycles + (info.pagePenalty ? 1 : 0) + (info.branch ? 2 : 0) + (info.decimalPenalty ? 1 : 0);
}

function decode(ram: Uint8Array, variant: CpuVariant, pc: number): Instruction | null {
  const info = variant.table[ram[pc]];
  if (!compilable(info) || pc + info.bytes > 0x10000) return null;
  return { pc, info, bytes: Array.from(ram.subarray(pc, pc + info.bytes)) };
}

/** The static successors of a block's last instruction (taken target first), or none for a computed one. */
function successors(last: Instruction): number[] {
  const { info, pc, bytes } = last;
  const next = (pc + info.bytes) & 0xffff;
  if (info.mode === 'rel') return [(next + ((bytes[1] << 24) >> 24)) & 0xffff, ...(info.mnemonic === 'BRA' ? [] : [next])];
  if (info.mode === 'zpr') return [(next + ((bytes[2] << 24) >> 24)) & 0xffff, next];
  if (info.mnemonic === 'JMP' && info.mode === 'abs') return [bytes[1] | (bytes[2] << 8)];
  if (info.mnemonic === 'JSR') return [bytes[1] | (bytes[2] << 8), next];
  if (info.mnemonic === 'RTS' || info.mnemonic === 'RTI' || info.mnemonic === 'JMP') return [];
  return [next];
}

/** The block from `leader`, or null when its first instruction is not compiled. */
export function findBlock(ram: Uint8Array, variant: CpuVariant, leader: number): Block | null {
  const instructions: Instruction[] = [];
  let pc = leader;
  while (instructions.length < MAX_BLOCK) {
    const ins = decode(ram, variant, pc);
    if (!ins) break;
    instructions.push(ins);
    pc += ins.info.bytes;
    if (endsBlock(ins.info) || pc > 0xffff) break;
  }
  if (!instructions.length) return null;
  let before = 0;
  for (const ins of instructions.slice(0, -1)) before += maxCycles(ins.info);
  return { leader, instructions, end: pc, cyclesBeforeLast: before };
}

/**
 * The blocks of `page` reachable from `seeds` (addresses in the page where
 * the guest was seen running) by the branches and jumps between them.
 */
export function findRegion(ram: Uint8Array, variant: CpuVariant, flat: boolean, page: number, seeds: Iterable<number>): Region {
  const inPage = (a: number) => a >> 8 === page;
  const queue = [...new Set([...seeds].filter(inPage))].sort((a, b) => a - b);
  const seen = new Set<number>(queue);
  const blocks: Block[] = [];
  const elsewhere = new Set<number>();
  while (queue.length && blocks.length < MAX_LEADERS) {
    const block = findBlock(ram, variant, queue.shift()!);
    if (!block) continue;
    blocks.push(block);
    const last = block.instructions[block.instructions.length - 1];
    const next = endsBlock(last.info) ? successors(last) : [block.end & 0xffff];
    for (const target of next) {
      if (!inPage(target)) elsewhere.add(target);
      else if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  blocks.sort((a, b) => a.leader - b.leader);
  const starts = new Map<number, Instruction>();
  for (const b of blocks) for (const ins of b.instructions) if (inPage(ins.pc)) starts.set(ins.pc, ins);
  const instructions = [...starts.values()].sort((a, b) => a.pc - b.pc);
  const key = [
    variant.model,
    flat ? 'flat' : 'mapped',
    page.toString(16),
    blocks.map((b) => b.leader.toString(16)).join(','),
    blocks.map((b) => b.instructions.map((i) => i.bytes.map((x) => x.toString(16).padStart(2, '0')).join('')).join('')).join('|'),
  ].join(':');
  return { page, blocks, instructions, elsewhere: [...elsewhere], key };
}

/** Whether `ram` still holds the bytes a region was compiled from (another VM's memory, or this one's later). */
export function regionMatches(region: Region, ram: Uint8Array): boolean {
  for (const b of region.blocks) {
    for (const ins of b.instructions) {
      for (let i = 0; i < ins.bytes.length; i++) if (ram[ins.pc + i] !== ins.bytes[i]) return false;
    }
  }
  return true;
}
