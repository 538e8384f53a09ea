// The JIT's runtime module: how a run of compiled code starts and ends, as a
// run of the interpreter's loops does (assembly/interrupts.ts: beginRun,
// endRun), and the function that stands for "no compiled code here".
//
// How to drive this (src/jit/engine.ts does it):
//   const rt = new WebAssembly.Instance(runtimeModule(), { env: { memory, table }, core: coreExports });
//   table.set(0, rt.exports.none);                 // JIT_PAGES entries of 0 land here
//   const reason = rt.exports.enter(vm, budget);   // runs the compiled code at PC
// `enter` begins a run (the interrupt state of the slot, as the core's run
// loops begin theirs), loads the registers and goes to the code the page of
// PC has in JIT_PAGES, with `limit` the budget or the first boundary at which
// an interrupt may be seen, whichever comes first. Compiled code ends a run
// through `exit`: registers back into the slot, the run's marks kept
// (endRun), its cycles and instructions counted, the reason stored.

import * as L from '../core/layout.js';
import { REGION_PARAMS } from './codegen.js';
import { I32, ModuleBuilder, OP, type ValType } from './wasm.js';

let compiled: WebAssembly.Module | undefined;

/** The runtime module's bytes. */
export function runtimeBytes(): Uint8Array {
  const m = new ModuleBuilder();
  const i32s = (n: number): ValType[] => new Array(n).fill(I32);
  const regionType = m.type(i32s(REGION_PARAMS.length), [I32]);
  const exitType = m.type(i32s(REGION_PARAMS.length + 1), [I32]);
  const beginRun = m.importFunc('core', 'beginRun', m.type([I32], [I32]));
  const endRun = m.importFunc('core', 'endRun', m.type([I32, I32, I32], []));
  m.importMemory('env', 'memory');
  m.importTable('env', 'table');
  const P = Object.fromEntries(REGION_PARAMS.map((n, i) => [n, i])) as Record<(typeof REGION_PARAMS)[number], number>;
  const REASON = REGION_PARAMS.length;

  const exit = m.func(exitType, [], (c) => {
    const vm = () => c.get(P.vm);
    vm().get(P.pc).mem(OP.i32_store16, L.STATE_PC);
    vm().get(P.a).mem(OP.i32_store8, L.STATE_A);
    vm().get(P.x).mem(OP.i32_store8, L.STATE_X);
    vm().get(P.y).mem(OP.i32_store8, L.STATE_Y);
    vm().get(P.s).mem(OP.i32_store8, L.STATE_S);
    vm().get(P.p).mem(OP.i32_store8, L.STATE_P);
    vm().get(P.cycles).get(P.p).call(endRun);
    for (const [field, local] of [[L.STATE_CYCLES, P.cycles], [L.STATE_INSTRUCTIONS, P.instructions]]) {
      vm().get(P.vm).mem(OP.i64_load, field).get(local).op(OP.i64_extend_i32_u).op(OP.i64_add).mem(OP.i64_store, field);
    }
    vm().get(REASON).mem(OP.i32_store8, L.STATE_EXIT_REASON);
    c.get(REASON);
  });

  // No compiled code for this page: give the run back, PC as it is.
  const none = m.func(regionType, [], (c) => {
    for (let i = 0; i < REGION_PARAMS.length; i++) c.get(i);
    c.i32(L.EXIT_JIT_LEAVE).returnCall(exit);
  });

  const enter = m.func(m.type([I32, I32], [I32]), [I32], (c) => {
    const VM = 0, BUDGET = 1, INT_AT = 2;
    c.get(VM).call(beginRun).set(INT_AT);
    c.get(VM);
    c.get(VM).mem(OP.i32_load16_u, L.STATE_PC);
    for (const f of [L.STATE_A, L.STATE_X, L.STATE_Y, L.STATE_S, L.STATE_P]) c.get(VM).mem(OP.i32_load8_u, f);
    c.i32(0).i32(0);
    // limit = min(budget, intAt)
    c.get(BUDGET).get(INT_AT).get(BUDGET).get(INT_AT).op(OP.i32_lt_s).op(OP.select);
    // The page's code: JIT_PAGES[pc >> 8].
    c.get(VM).get(VM).mem(OP.i32_load16_u, L.STATE_PC).i32(8).op(OP.i32_shr_u).i32(2).op(OP.i32_shl).op(OP.i32_add).mem(OP.i32_load, L.JIT_PAGES);
    c.returnCallIndirect(regionType);
  });

  m.exportFunc('enter', enter);
  m.exportFunc('exit', exit);
  m.exportFunc('none', none);
  return m.encode();
}

/** The compiled runtime module, made once per process (or page). */
export function runtimeModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(runtimeBytes() as Uint8Array<ArrayBuffer>);
  return compiled;
}
