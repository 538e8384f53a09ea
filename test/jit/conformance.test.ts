// The conformance suites again, with the JIT on (HYPER6502_JIT=on): Klaus
// Dormann's functional tests (the NMOS one to its exact cycle and instruction
// counts, self-modifying as it is) and interrupt test, the 75 suite images
// with their cycle counts: the same tests as test/conformance/, with the same
// assertions, then a check that compiled code really ran them.
// test/jit/klaus-force.test.ts runs Klaus's test with every page compiled.
import { describe, it, expect, afterAll } from 'vitest';
import { jitProcessStats } from '../../src/jit/engine.ts';
import { skipData } from '../helpers/conformance.ts';

process.env.HYPER6502_JIT = 'on';
afterAll(() => { delete process.env.HYPER6502_JIT; });

await import('../conformance/klaus.test.ts');
await import('../conformance/suites.test.ts');

describe('under the JIT', () => {
  it.skipIf(skipData)('the suites above ran as compiled code', () => {
    expect(jitProcessStats.modulesCompiled).toBeGreaterThan(100);
    expect(jitProcessStats.blocksCompiled).toBeGreaterThan(1000);
  });
});
