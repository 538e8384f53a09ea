// The guests of ../shared/guests (EhBASIC, Tali Forth 2 with its test suite,
// Wozmon and Apple 1 BASIC) answer their sessions as the reference
// transcripts say with the JIT on, from the command line and in the
// hypervisor (snapshotted and moved mid-session): test/machines/guests.test.ts
// again, with HYPER6502_JIT=on, which the hypervisor's workers inherit.
import { afterAll } from 'vitest';

process.env.HYPER6502_JIT = 'on';
afterAll(() => { delete process.env.HYPER6502_JIT; });

await import('../machines/guests.test.ts');
