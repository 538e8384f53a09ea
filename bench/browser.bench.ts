// Browser benchmark: the core's emulated MHz in Chromium next to Node on the
// same program, and the frame rate of the demo page with sixteen VMs.
//
// How to run this: `npm run bench:browser` (= npx tsx bench/browser.bench.ts),
// after `npm run build` (it serves dist/demo) with Debian's chromium installed.

import { chromium } from 'playwright-core';
import { cpus } from 'node:os';
import { startServer } from '../src/cli/serve.ts';
import { CoreMemory } from '../src/core/cpu.ts';
import { SIEVE, flatImage } from './programs/sieve.ts';

const RUNS = 7;
const image = flatImage(SIEVE.bytes, SIEVE.loadAddress);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// The same measurement in both places: load, run to the final JMP *, cycles / seconds.
function measure(image: Uint8Array, start: number, end: number, runs: number, Core: typeof CoreMemory) {
  return (async () => {
    const core = await Core.create();
    const mhz: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const cpu = core.cpu(0, '6502');
      cpu.ram.set(image);
      cpu.pc = start;
      cpu.stopOnSelfLoop = true;
      const t0 = performance.now();
      cpu.runFor(1e9);
      const s = (performance.now() - t0) / 1000;
      if (cpu.pc !== end) throw new Error(`the sieve ended at $${cpu.pc.toString(16)}`);
      if (i >= 2) mhz.push(cpu.cycles / s / 1e6);
    }
    return mhz;
  })();
}

console.log('hyper6502 browser benchmark');
console.log(`machine: ${cpus()[0].model.trim()}, ${cpus().length} cores, Node ${process.version}`);
const node = median(await measure(image, SIEVE.startPc, SIEVE.endPc, RUNS, CoreMemory));

const { server, url } = await startServer({ port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.HYPER6502_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => (window as any).demo?.machine);
  console.log(`browser: ${await browser.version()}`);
  await page.click('#run'); // pause the demo's own machine
  const inPage = await page.evaluate(
    async ([bytes, start, end, runs, fn]) => {
      const measureIn = new Function('return ' + fn)();
      return measureIn(new Uint8Array(bytes), start, end, runs, (window as any).demo.lib.CoreMemory);
    },
    [Array.from(image), SIEVE.startPc, SIEVE.endPc, RUNS, measure.toString()] as const,
  );
  const chrome = median(inPage as number[]);
  console.log(`sieve, ${SIEVE.expectedCycles.toLocaleString('en')} cycles: Node ${node.toFixed(0)} MHz, Chromium ${chrome.toFixed(0)} MHz (Chromium / Node: ${(chrome / node).toFixed(2)})`);

  await page.click('#grid-start');
  await page.waitForFunction(() => /frames a second/.test(document.getElementById('grid-stats')!.textContent ?? ''));
  const fps: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.waitForTimeout(1000);
    fps.push(Number((await page.locator('#grid-stats').textContent())!.split(' ')[0]));
  }
  console.log(`demo page with 16 VMs at 1 MHz each in Web Workers: ${median(fps)} frames a second`);
} finally {
  await browser.close();
  server.close();
}
