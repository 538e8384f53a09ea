// The JIT: runs a VM's hot guest code as WebAssembly compiled at run time,
// exactly as the interpreter would run it, and the interpreter everywhere else.
//
// How to drive this (src/core/cpu.ts does it):
//   const core = new JitCore(memory, coreExports);         // one per CoreMemory (its table, its runtime)
//   const jit = new JitVm(core, vmHost, 'on');             // one per VM; 'force' compiles every page at once
//   const reason = jit.run(budget);                         // instead of the interpreter's run(budget)
//   jit.metrics                                             // blocks compiled, compile time, invalidations, share of cycles
//
// The run loop: where PC is an instruction of a page this VM has compiled
// code for, the code runs (src/jit/runtime.ts enters it; it goes from page to
// page by itself) until it gives the run back; elsewhere the interpreter runs
// a stretch, and where it was when it stopped counts as a sample of where the
// guest spends its time. A page seen often enough is compiled (src/jit/region.ts
// finds its blocks from the samples, src/jit/codegen.ts writes the code);
// compiled code whose bytes the guest (or the host) changed is dropped when
// it is next entered, and compiled again once the page is hot again.
//
// Compiled modules are kept per process by what they were made from (the
// model, the flavour, the blocks and their bytes): VMs that run the same code
// share them, each core memory instantiates them once. Where compiling is not
// allowed (a page whose Content-Security-Policy forbids WebAssembly
// compilation), the JIT turns itself off and says so in `jitProcessStats.disabled`.

import * as L from '../core/layout.js';
import type { CpuVariant } from '../isa/opcodes.js';
import { compileRegion } from './codegen.js';
import { findRegion, regionMatches, type Region } from './region.js';
import { runtimeModule } from './runtime.js';

export type JitMode = 'on' | 'off' | 'force';

/** The mode the environment asks for: HYPER6502_JIT=on|force|off (default off). */
export function defaultJitMode(): JitMode {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.HYPER6502_JIT;
  return v === 'on' || v === 'force' ? v : 'off';
}

/** Interpreter cycles per stretch between two looks at PC, where there is no compiled code. */
const STRETCH = 1000;
/** Samples of a page before it is compiled (doubled each time its code goes stale). */
const HOT = 8;
/** Seeds kept per page. */
const MAX_SEEDS = 64;
/** Compiled modules kept per process, to be shared (the oldest go first). */
const MODULES_KEPT = 256;
/** Regions kept per page per process, to be shared. */
const SHARED_PER_PAGE = 8;

/** What the JIT has done in this process (or page): all VMs together. */
export const jitProcessStats = {
  /** Region modules compiled (a page's blocks each), and their blocks. */
  modulesCompiled: 0,
  blocksCompiled: 0,
  /** Milliseconds spent finding blocks, writing and compiling modules. */
  compileMs: 0,
  /** Modules found already compiled (for another VM, or an earlier run). */
  modulesShared: 0,
  /** Why the JIT is off in this process, if it turned itself off (e.g. the page forbids compiling). */
  disabled: null as string | null,
};

/** The module of each region, by key; and recent regions by page, to be found by other VMs. */
const modules = new Map<string, WebAssembly.Module>();
const pending = new Set<string>();
const sharedRegions = new Map<string, Region[]>();

/** True on a web page's main thread, where a module over 4 KiB must be compiled asynchronously. */
const mainThreadOfPage = typeof (globalThis as { document?: unknown }).document !== 'undefined';

function compileModule(region: Region, variant: CpuVariant, flat: boolean): WebAssembly.Module | null {
  const known = modules.get(region.key);
  if (known) return known;
  if (pending.has(region.key) || jitProcessStats.disabled) return null;
  const t0 = performance.now();
  const bytes = compileRegion(region, variant, flat) as Uint8Array<ArrayBuffer>;
  const done = (module: WebAssembly.Module) => {
    if (modules.size >= MODULES_KEPT) modules.delete(modules.keys().next().value!);
    modules.set(region.key, module);
    jitProcessStats.modulesCompiled++;
    jitProcessStats.blocksCompiled += region.blocks.length;
  };
  const failed = (err: unknown) => {
    // Only a refusal to compile at all (CSP) turns the JIT off; anything else is a bug worth seeing.
    if (err instanceof WebAssembly.CompileError && /disallow|CSP|unsafe-eval|not allowed/i.test(String((err as Error).message))) {
      jitProcessStats.disabled = `WebAssembly compilation is not allowed here (${(err as Error).message}): running the interpreter only`;
      return;
    }
    if (err instanceof EvalError) {
      jitProcessStats.disabled = `WebAssembly compilation is not allowed here (${err.message}): running the interpreter only`;
      return;
    }
    throw err;
  };
  try {
    if (mainThreadOfPage && bytes.length > 4096) throw new RangeError('asynchronous compilation needed');
    const module = new WebAssembly.Module(bytes);
    done(module);
    jitProcessStats.compileMs += performance.now() - t0;
    return module;
  } catch (err) {
    if (!(err instanceof RangeError)) {
      failed(err);
      return null;
    }
    pending.add(region.key);
    WebAssembly.compile(bytes).then(done, failed).finally(() => pending.delete(region.key));
    jitProcessStats.compileMs += performance.now() - t0;
    return null;
  }
}

/** The core's exports compiled code calls. */
export type JitCoreExports = Record<string, unknown> & { beginRun: unknown; endRun: unknown };

/** The JIT's part of one CoreMemory: the table of compiled code and the runtime, for every VM in it. */
export class JitCore {
  readonly table: WebAssembly.Table;
  readonly enter: (vm: number, budget: number) => number;
  private readonly imports: WebAssembly.Imports;
  private readonly none: WebAssembly.ExportValue;
  private readonly memoryBuffer: () => ArrayBuffer;
  /** The table index of each region's code in this memory, and how many VMs have it installed. */
  private readonly indices = new Map<string, { index: number; users: number }>();
  /** Table entries no VM uses any more, to be used again. */
  private readonly free: number[] = [];
  private nextIndex = 1;

  constructor(memory: WebAssembly.Memory, core: JitCoreExports) {
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 64 });
    this.memoryBuffer = () => memory.buffer;
    const rt = new WebAssembly.Instance(runtimeModule(), { env: { memory, table: this.table }, core: { beginRun: core.beginRun, endRun: core.endRun } as WebAssembly.ModuleImports });
    const exports = rt.exports as { enter: (vm: number, budget: number) => number; exit: WebAssembly.ExportValue; none: WebAssembly.ExportValue };
    this.enter = exports.enter;
    this.none = exports.none;
    this.table.set(0, exports.none);
    this.imports = { env: { memory, table: this.table }, rt: { exit: exports.exit }, core: core as WebAssembly.ModuleImports };
  }

  /** What each slot (by its address) has installed, page by page. */
  private readonly installed = new Map<number, Map<number, Region>>();

  /**
   * Installs a region's code for page `page` of the VM at `vm` (compiled or
   * instantiated as needed, and written into its JIT_PAGES entry): its table
   * index, or 0 while it is not ready.
   */
  install(vm: number, page: number, region: Region, variant: CpuVariant, flat: boolean): number {
    let index = this.indices.get(region.key)?.index;
    if (index === undefined) {
      const cached = modules.has(region.key);
      const module = compileModule(region, variant, flat);
      if (!module) return 0;
      if (cached) jitProcessStats.modulesShared++;
      const instance = new WebAssembly.Instance(module, this.imports);
      index = this.free.pop();
      if (index === undefined) {
        if (this.nextIndex >= this.table.length) this.table.grow(this.table.length);
        index = this.nextIndex++;
      }
      this.table.set(index, instance.exports.fast as WebAssembly.ExportValue);
      this.indices.set(region.key, { index, users: 0 });
    }
    this.indices.get(region.key)!.users++; // before the page's old code goes: it may be the same
    this.uninstall(vm, page);
    let pages = this.installed.get(vm);
    if (!pages) this.installed.set(vm, (pages = new Map()));
    pages.set(page, region);
    new DataView(this.memoryBuffer()).setUint32(vm + L.JIT_PAGES + page * 4, index, true);
    return index;
  }

  /** Takes the code of page `page` of the VM at `vm` out; code no VM has installed any more goes. */
  uninstall(vm: number, page: number) {
    const pages = this.installed.get(vm);
    const region = pages?.get(page);
    if (!region) return;
    pages!.delete(page);
    new DataView(this.memoryBuffer()).setUint32(vm + L.JIT_PAGES + page * 4, 0, true);
    const known = this.indices.get(region.key)!;
    if (--known.users > 0) return;
    this.indices.delete(region.key);
    this.table.set(known.index, this.none);
    this.free.push(known.index);
  }

  /** Takes out everything installed for the VM at `vm` (a new VM in its slot, or its memory replaced). */
  uninstallAll(vm: number) {
    for (const page of [...(this.installed.get(vm)?.keys() ?? [])]) this.uninstall(vm, page);
  }
}

/** What the JIT needs of a VM (src/core/cpu.ts gives it). */
export interface JitHost {
  /** The slot's byte address in the memory, and its state (see src/core/layout.ts). */
  readonly address: number;
  readonly view: DataView;
  readonly ram: Uint8Array;
  readonly variant: CpuVariant;
  /** Every page is plain RAM (the flat code and loops then apply). */
  readonly allRam: boolean;
  /** The interpreter: a run of `budget` cycles. */
  interpret(budget: number): number;
}

interface PageState {
  samples: number;
  hot: number;
  seeds: Set<number>;
  region?: Region;
  /** Instruction starts of the installed region (bit per low address byte). */
  starts?: Uint8Array;
}

export interface JitMetrics {
  mode: JitMode;
  /** Pages with compiled code installed now, and installed in all. */
  pagesCompiled: number;
  installs: number;
  /** Blocks in the code installed for this VM. */
  blocks: number;
  /** Compiled code dropped because its bytes had changed. */
  invalidations: number;
  /** Cycles run by compiled code, and by the interpreter, in runs with the JIT on. */
  compiledCycles: number;
  interpretedCycles: number;
}

export class JitVm {
  private pages: Array<PageState | undefined> = new Array(256);
  private flat: boolean;
  private stall = 0;
  readonly metrics: JitMetrics;

  constructor(private readonly core: JitCore, private readonly host: JitHost, readonly mode: Exclude<JitMode, 'off'>) {
    this.flat = host.allRam;
    core.uninstallAll(host.address); // what an earlier VM in this slot left
    this.metrics = { mode, pagesCompiled: 0, installs: 0, blocks: 0, invalidations: 0, compiledCycles: 0, interpretedCycles: 0 };
  }

  /** Forgets all compiled code of this VM (its memory was replaced, or its memory map changed). */
  reset() {
    for (let page = 0; page < 256; page++) if (this.pages[page]?.starts) this.uninstall(page);
    this.pages = new Array(256);
    this.flat = this.host.allRam;
  }

  private cycles(): number {
    const v = this.host.view;
    return v.getUint32(L.STATE_CYCLES + 4, true) * 0x100000000 + v.getUint32(L.STATE_CYCLES, true);
  }

  /** A run of `budget` cycles (> 0), as the interpreter's. */
  run(budget: number): number {
    const host = this.host;
    const view = host.view;
    if (jitProcessStats.disabled) return host.interpret(budget);
    if (host.allRam !== this.flat) this.reset();
    const start = this.cycles();
    const target = start + budget;
    const metrics = this.metrics;
    let now = start;
    let short = false;
    for (;;) {
      const left = target - now;
      if (view.getUint8(L.STATE_HALT) !== L.HALT_NONE) return host.interpret(left);
      const pc = view.getUint16(L.STATE_PC, true);
      const page = pc >> 8;
      let state = this.pages[page];
      if (this.mode === 'force' && !state?.starts) {
        this.see(pc, true);
        state = this.pages[page];
      }
      if (state?.starts && state.starts[(pc & 0xff) >> 3] & (1 << (pc & 7))) {
        const reason = this.core.enter(host.address, left);
        const after = this.cycles();
        const ran = after - now;
        now = after;
        metrics.compiledCycles += ran;
        if (reason === L.EXIT_JIT_LEAVE || reason === L.EXIT_JIT_STALE) {
          if (reason === L.EXIT_JIT_STALE) this.stale(view.getUint16(L.STATE_PC, true) >> 8);
          if (ran > 0) {
            this.stall = 0;
            if (now >= target) {
              view.setUint8(L.STATE_EXIT_REASON, L.EXIT_BUDGET);
              return L.EXIT_BUDGET;
            }
            // Compiled code went where there is none: that is where to look next,
            // and the interpreter runs one instruction there (one it does not
            // compile, often) before compiled code is tried again.
            if (reason === L.EXIT_JIT_LEAVE) {
              this.see(view.getUint16(L.STATE_PC, true), false);
              const pcNow = view.getUint16(L.STATE_PC, true);
              const there = this.pages[pcNow >> 8];
              if (!(there?.starts && there.starts[(pcNow & 0xff) >> 3] & (1 << (pcNow & 7)))) short = true;
            }
            continue;
          }
          // Nothing ran (an interrupt is due, a device is read, a masked interrupt
          // line keeps compiled code from starting, the code went stale): the
          // interpreter goes on, one instruction first, longer stretches while it stays so.
          if (reason === L.EXIT_JIT_LEAVE) this.stall = Math.min(this.stall + 1, 11);
        } else return reason;
      }
      const stretch = short ? 1 : Math.min(left, this.stall ? Math.min(1 << (this.stall - 1), STRETCH) : STRETCH);
      short = false;
      const reason = host.interpret(stretch);
      const after = this.cycles();
      metrics.interpretedCycles += after - now;
      now = after;
      if (reason !== L.EXIT_BUDGET || now >= target) return reason;
      this.see(view.getUint16(L.STATE_PC, true), false);
    }
  }

  /** The guest ran at `pc` (a sample, or where compiled code left off): compiles its page once it is hot. */
  private see(pc: number, now: boolean) {
    const page = pc >> 8;
    const state = (this.pages[page] ??= { samples: 0, hot: this.mode === 'force' ? 1 : HOT, seeds: new Set() });
    if (state.starts && state.starts[(pc & 0xff) >> 3] & (1 << (pc & 7))) return;
    if (state.seeds.size < MAX_SEEDS) state.seeds.add(pc);
    if (++state.samples < state.hot && !now) return;
    state.samples = 0;
    this.install(page, state);
  }

  private install(page: number, state: PageState) {
    const host = this.host;
    const seeds = new Set(state.seeds);
    for (const b of state.region?.blocks ?? []) seeds.add(b.leader);
    const flat = this.flat;
    const shareKey = `${host.variant.model}:${flat}:${page}`;
    // Code another VM (or an earlier run) compiled for the same bytes, holding these seeds, if there is some.
    const t0 = performance.now();
    let region = sharedRegions.get(shareKey)?.find((r) => regionMatches(r, host.ram) && [...seeds].every((s) => r.instructions.some((i) => i.pc === s)));
    if (!region) {
      region = findRegion(host.ram, host.variant, flat, page, seeds);
      jitProcessStats.compileMs += performance.now() - t0;
      if (!region.blocks.length) return;
      const list = sharedRegions.get(shareKey) ?? [];
      list.unshift(region);
      if (list.length > SHARED_PER_PAGE) list.pop();
      sharedRegions.set(shareKey, list);
    }
    const index = this.core.install(host.address, page, region, host.variant, flat);
    if (!index) return; // compiling (asynchronously), or the JIT is off
    if (state.starts) this.metrics.blocks -= state.region!.blocks.length;
    else this.metrics.pagesCompiled++;
    state.region = region;
    state.starts = new Uint8Array(32);
    for (const ins of region.instructions) state.starts[(ins.pc & 0xff) >> 3] |= 1 << (ins.pc & 7);
    state.seeds.clear();
    this.metrics.installs++;
    this.metrics.blocks += region.blocks.length;
    for (const target of region.elsewhere) {
      const other = (this.pages[target >> 8] ??= { samples: 0, hot: this.mode === 'force' ? 1 : HOT, seeds: new Set() });
      if (!other.starts && other.seeds.size < MAX_SEEDS) other.seeds.add(target);
    }
  }

  private uninstall(page: number) {
    const state = this.pages[page];
    if (!state?.starts) return;
    this.core.uninstall(this.host.address, page);
    this.metrics.pagesCompiled--;
    this.metrics.blocks -= state.region!.blocks.length;
    state.starts = undefined;
  }

  /** The code of `page` was written since it was compiled: drop it; compile it again once it is hot again. */
  private stale(page: number) {
    const state = this.pages[page];
    this.metrics.invalidations++;
    if (!state) return;
    this.uninstall(page);
    state.samples = 0;
    if (this.mode !== 'force') state.hot = Math.min(state.hot * 2, 1 << 16);
  }
}
