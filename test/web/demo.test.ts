// The demo page in real Chromium (Debian's chromium, driven by playwright-core):
// it loads, programs run and draw, the terminal talks, the debugger steps,
// snapshots round-trip through files, sixteen VMs run in Web Workers, and a
// corrupt snapshot gets a clear message. A screenshot of each state is saved
// in test-artifacts/.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { startServer, DEMO_DIR } from '../../src/cli/serve.ts';
import { EASY6502_PALETTE } from '../../src/devices/display.ts';

const CHROMIUM = process.env.HYPER6502_CHROMIUM ?? '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM) ? `Chromium not found at ${CHROMIUM} (apt-get install chromium)` : !existsSync(join(DEMO_DIR, 'demo.js')) ? `the demo is not built (npm run build:web)` : null;
if (missing) console.warn(`SKIPPED the browser tests: ${missing}`);

const artifacts = join(import.meta.dirname, '../../test-artifacts');
let browser: Browser;
let page: Page;
let close: () => void;
/** Uncaught errors in the page, from its load on: every test ends by finding none. */
const errors: string[] = [];

beforeAll(async () => {
  if (missing) return;
  const { chromium } = await import('playwright-core');
  const { server, url } = await startServer({ port: 0 });
  close = () => server.close();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => (window as any).demo?.machine);
  expect(errors).toEqual([]);
  mkdirSync(artifacts, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  close?.();
});

const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** The easy6502 canvas as palette indexes (32 x 32). */
async function screenIndexes(): Promise<number[]> {
  const rgba: number[] = await page.evaluate(() => {
    const c = document.querySelector('.hyper6502-screen') as HTMLCanvasElement;
    return [...c.getContext('2d')!.getImageData(0, 0, 32, 32).data];
  });
  const out = [];
  for (let i = 0; i < rgba.length; i += 4) out.push(EASY6502_PALETTE.indexOf((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]));
  return out;
}

describe.skipIf(missing)(`the demo page in Chromium${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  afterEach(() => {
    expect(errors.splice(0), 'uncaught errors in the page during this test').toEqual([]);
  });

  it('runs the colour bars: the canvas shows 2-pixel bars in consecutive colours', async () => {
    await page.waitForTimeout(300);
    expect(await page.locator('#stats').textContent()).toMatch(/1\.0\d MHz|0\.9\d MHz/);
    // Stop between two frames (in the program's delay loop at the end of a frame), so that no row is half drawn.
    await page.evaluate(() => {
      const em = (window as any).demo.machine;
      em.pause();
      for (let i = 0; i < 200_000 && !(em.machine.cpu.pc >= 0x0644 && em.machine.cpu.pc <= 0x064e); i++) em.step();
      em.draw();
    });
    const px = await screenIndexes();
    expect(px.every((c) => c >= 0)).toBe(true); // only palette colours
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x += 2) {
        expect(px[y * 32 + x + 1]).toBe(px[y * 32 + x]);
        expect(px[y * 32 + x]).toBe((px[y * 32] + x / 2) & 15);
      }
    }
    await shot('1-colour-bars');
    await page.click('#run'); // running again
  });

  it('the debugger steps and shows the registers the machine has', async () => {
    await page.click('#run'); // pause
    const before = await page.evaluate(() => (window as any).demo.machine.debugger.registers());
    await page.click('#step');
    const after = await page.evaluate(() => (window as any).demo.machine.debugger.registers());
    expect(after.instructions).toBe(before.instructions + 1);
    const hex = (n: number, d: number) => n.toString(16).toUpperCase().padStart(d, '0');
    expect(await page.locator('#registers').textContent()).toContain(`PC=${hex(after.pc, 4)} A=${hex(after.a, 2)} X=${hex(after.x, 2)} Y=${hex(after.y, 2)}`);
    expect(await page.locator('#disassembly .pc').textContent()).toMatch(new RegExp(`^${hex(after.pc, 4)} `));
    await shot('2-debugger-step');
  });

  it('a snapshot saved to a file and loaded back continues exactly as the machine did', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const file = join(tmpdir(), `hyper6502-${Date.now()}.hyp6502`);
    await download.saveAs(file);
    const run = () =>
      page.evaluate(() => {
        const m = (window as any).demo.machine;
        m.host.runUntil(m.host.ids()[0], m.machine.cpu.cycles + 100_000);
        const ram = m.machine.cpu.ram as Uint8Array;
        let sum = 0;
        for (let i = 0; i < ram.length; i++) sum = (sum * 31 + ram[i]) >>> 0;
        return { regs: m.debugger.registers(), sum };
      });
    const first = await run();
    await page.setInputFiles('#load', file);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden);
    expect(await page.locator('#message').textContent()).toMatch(/Restored the snapshot/);
    const second = await run();
    expect(second).toEqual(first);
    await shot('3-snapshot-restored');
  });

  it('autosaves to IndexedDB and offers the autosave after a reload', async () => {
    await page.click('#run'); // running (autosave only saves a running machine)
    await page.waitForTimeout(5600); // the page autosaves every 5 seconds
    await page.reload();
    await page.waitForFunction(() => (window as any).demo?.machine);
    await page.waitForFunction(() => !document.getElementById('restore-autosave')!.hidden, undefined, { polling: 100 });
    await page.click('#restore-autosave');
    await page.waitForFunction(() => /Restored the snapshot from the autosave/.test(document.getElementById('message')!.textContent ?? ''), undefined, { polling: 100 });
    expect(await page.evaluate(() => (window as any).demo.machine.debugger.registers().cycles)).toBeGreaterThan(1_000_000);
  });

  it('a corrupt snapshot gets a message that names the problem, and nothing breaks', async () => {
    const bad = join(tmpdir(), 'corrupt.hyp6502');
    writeFileSync(bad, new Uint8Array(5000).fill(7));
    await page.setInputFiles('#load', bad);
    await page.waitForFunction(() => /rejected/.test(document.getElementById('message')!.textContent ?? ''));
    expect(await page.locator('#message').textContent()).toMatch(/corrupt\.hyp6502 was rejected: this is not a hyper6502 snapshot/);
    expect(await page.evaluate(() => (window as any).demo.machine.debugger.registers().pc)).toBeGreaterThan(0);
    await shot('4-corrupt-snapshot');
  });

  it('the cc65 program talks over the terminal', async () => {
    await page.selectOption('#program', 'hello');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('What is your name?'));
    await page.locator('.xterm').click();
    await page.keyboard.type('Ada');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('Goodbye, Ada.'));
    const text = (await page.evaluate(() => (window as any).demo.terminalText())).join('\n');
    expect(text).toMatch(/What is your name\? Ada/);
    expect(text).toMatch(/Hello, Ada!/);
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    await shot('5-terminal');
  });

  it('the board example runs VIA interrupts and echoes what is typed on its terminal', async () => {
    await page.selectOption('#program', 'timer');
    await page.selectOption('#speed', 'max');
    await page.waitForFunction(() => (window as any).demo.terminalText().join('\n').includes('tick 2'), undefined, { polling: 100 });
    await page.selectOption('#speed', '1000000');
    await page.locator('.xterm').click();
    await page.keyboard.type('hello');
    // The echo, with any tick line the interrupt handler printed in between taken out.
    await page.waitForFunction(() => (window as any).demo.terminalText().join('').replace(/tick \d+/g, '').includes('hello'), undefined, { polling: 100 });
    expect((await page.evaluate(() => (window as any).demo.terminalText())).join('\n')).toMatch(/hyper6502 board: a tick a second at 1 MHz/);
    await shot('6-board-timer');
  });

  it('a file that is not a program gets a clear message; a .bin or .s file runs', async () => {
    const dir = tmpdir();
    writeFileSync(join(dir, 'photo.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    const messageMatches = (re: RegExp) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById('message')!.textContent ?? ''), re.source, { polling: 50 });
    await page.setInputFiles('#load-program', join(dir, 'photo.png'));
    await messageMatches(/photo\.png is not a program this page runs/);
    writeFileSync(join(dir, 'fake.prg'), new TextEncoder().encode('not really a program'));
    await page.setInputFiles('#load-program', join(dir, 'fake.prg'));
    await messageMatches(/fake\.prg is not a cc65 sim65 program/);
    writeFileSync(join(dir, 'pixel.bin'), Uint8Array.from([0xa9, 0x07, 0x8d, 0x00, 0x02, 0x00])); // LDA #7; STA $0200; BRK
    await page.setInputFiles('#load-program', join(dir, 'pixel.bin'));
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    expect((await screenIndexes())[0]).toBe(7);
    await shot('7-bad-program-file');
  });

  it('an assembly error shows at its line; a good program runs', async () => {
    await page.fill('#source', '  .org $0600\n  lda #1\n  bogus\n  sta $0200\n');
    await page.click('#assemble');
    expect(await page.locator('#asm-errors li').first().textContent()).toMatch(/^line 3, column 3: /);
    await page.fill('#source', '  .org $0600\n  lda #5\n  sta $0200\n  brk\n');
    await page.click('#assemble');
    await page.waitForFunction(() => /exit code 0/.test(document.getElementById('message')!.textContent ?? ''));
    expect((await screenIndexes())[0]).toBe(5);
    await shot('8-editor');
  });

  it('sixteen VMs run side by side in Web Workers, each with its live screen', async () => {
    await page.click('#grid-start');
    await page.waitForFunction(() => /frames a second, 16 VMs/.test(document.getElementById('grid-stats')!.textContent ?? ''), undefined, { timeout: 20_000 });
    await page.waitForTimeout(1500);
    const lit = await page.evaluate(() =>
      [...document.querySelectorAll('#grid canvas')].map((c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 32, 32).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] | d[i + 1] | d[i + 2]) n++;
        return n;
      }),
    );
    expect(lit).toHaveLength(16);
    for (const n of lit) expect(n).toBeGreaterThan(300); // the bars are drawn
    const fps = Number((await page.locator('#grid-stats').textContent())!.split(' ')[0]);
    expect(fps).toBeGreaterThan(5);
    await shot('9-sixteen-vms');
    await page.click('#grid-start');
  });
});
