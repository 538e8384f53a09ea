// Real system software boots unmodified on the machines it was written for
// and answers a session as the reference transcripts say: from the command
// line (stdin and stdout), and in the Hypervisor, snapshotted mid-session and
// restored on another worker. The guests are third-party test data in
// ../shared/guests (see test/helpers/guests.ts); without them each test
// here is reported as skipped.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { Hypervisor, type Vm } from '../../src/hypervisor/hypervisor.ts';
import { hostOutput } from '../../src/machine/console.ts';
import { resolveSpec } from '../../src/machine/description.ts';
import { GUESTS, guestsDir, guestsPath, guestsSkipReason, guestText, typedLines } from '../helpers/guests.ts';

const present = guestsDir() !== null;
const skipNote = present ? '' : ` (${guestsSkipReason})`;

async function cli(argv: string[], stdin: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += typeof t === 'string' ? t : new TextDecoder('latin1').decode(t)), stderr: (t) => (stderr += t), stdin });
  return { code, stdout, stderr };
}

/** Types the session into a VM a line at a time, each once it waits; moves it to another worker after `moveAfter` lines. */
async function session(hv: Hypervisor, first: Vm, lines: string[], moveAfter: number, crIsNewline: boolean): Promise<{ text: string; moved: boolean }> {
  let vm = first;
  const state = { lastCr: false };
  let text = '';
  const listen = (v: Vm) => v.onOutput((bytes) => (text += new TextDecoder('latin1').decode(hostOutput(bytes, { mode: 'file', crIsNewline }, state))));
  listen(vm);
  let halted = false;
  const watch = (v: Vm) => v.onState((s) => (halted ||= s === 'halted'));
  watch(vm);
  await vm.start();
  let moved = false;
  for (let i = 0; i < lines.length; i++) {
    await vm.whenWaiting();
    if (i === moveAfter) {
      await vm.pause();
      const snapshot = await vm.snapshot();
      const copy = await hv.restoreVm(snapshot);
      moved = copy.worker !== vm.worker;
      await vm.destroy();
      vm = copy;
      listen(vm);
      watch(vm);
      await vm.resume();
      await vm.whenWaiting();
    }
    await vm.input(lines[i]);
  }
  // The end of the session: the guest waits for more, or it has ended (BRK).
  await Promise.race([vm.whenWaiting(), new Promise<void>((resolve) => vm.onState((s) => s === 'halted' && resolve()))]);
  if (!halted) await vm.pause();
  return { text, moved };
}

for (const guest of GUESTS) {
  describe(guest.name, () => {
    it.skipIf(!present)(`boots from the command line and answers its session as the reference says${skipNote}`, async () => {
      const argv = guest.cli.map((a) => (/\.bin(@|$)/.test(a) ? join(guestsPath, a) : a));
      const r = await cli(['run', ...argv], guestText(guest.keys));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      guest.check(r.stdout);
    });

    it.skipIf(!present)(`does the same in the Hypervisor, snapshotted mid-session and restored on another worker${skipNote}`, async () => {
      const hv = await Hypervisor.create({ workers: 2 });
      try {
        const spec = guest.spec();
        const crIsNewline = resolveSpec(spec).console?.crIsNewline ?? false;
        const vm = await hv.createVm(spec, { worker: 0 });
        const { text, moved } = await session(hv, vm, typedLines(guestText(guest.keys)), guest.moveAfter, crIsNewline);
        expect(moved).toBe(true);
        guest.check(text);
      } finally {
        await hv.close();
      }
    });
  });
}
