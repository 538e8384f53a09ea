// The sim65 file sandbox under attack: a path swapped between a directory
// and a symbolic link that leads out while the guest reads through it (and
// the same for the file itself, and for hard links), FIFOs, hard links, a
// disk filled by writes and seeks, lseek's 32-bit results, `--fs-root /`.
// Every attack counts its escapes, which must be 0.
import { describe, it, expect, afterEach, afterAll } from 'vitest';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SandboxFs, DEFAULT_FS_QUOTA } from '../../src/node/sandbox-fs.ts';
import { runSim65 } from '../../src/node/run.ts';
import { main } from '../../src/cli/main.ts';
import type { OpenMode } from '../../src/devices/sim65.ts';

const programs = new URL('../programs/', import.meta.url).pathname;
const prg = (name: string) => new Uint8Array(readFileSync(join(programs, `${name}.prg`)));
const READ: OpenMode = { read: true, write: false, create: false, truncate: false, append: false, exclusive: false };
const WRITE: OpenMode = { read: false, write: true, create: true, truncate: true, append: false, exclusive: false };

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A root with a place outside it, the outside holding a secret. */
function layout() {
  const base = mkdtempSync(join(tmpdir(), 'hyper6502-sandbox-'));
  made.push(base);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'f'), 'OUTSIDE');
  return { base, root, outside };
}

function readVia(sb: SandboxFs, path: string): string | null {
  const h = sb.open(path, READ);
  if (h === null) return null;
  const bytes = sb.read(h, 64);
  sb.close(h);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

async function guest(name: string, options: Parameters<typeof runSim65>[1] = {}) {
  let stdout = '';
  const r = await runSim65(prg(name), { name: `${name}.prg`, stdout: (b) => (stdout += new TextDecoder().decode(b)), ...options });
  return { ...r, stdout };
}

/**
 * A thread that swaps `dir/name` around as fast as it can: each of `parked`
 * (names in `dir`) is renamed to `name` and back in turn, so `name` is each of
 * them for a moment, or missing.
 */
function flipper(dir: string, name: string, parked: string[]) {
  const stop = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { renameSync } = require('node:fs');
     const { workerData: { dir, name, parked, stop } } = require('node:worker_threads');
     Atomics.store(stop, 1, 1);
     while (!Atomics.load(stop, 0)) {
       for (const p of parked) {
         renameSync(dir + '/' + p, dir + '/' + name);
         renameSync(dir + '/' + name, dir + '/' + p);
       }
       Atomics.add(stop, 1, 1);
     }`,
    { eval: true, workerData: { dir, name, parked, stop } },
  );
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const exited = new Promise((r) => worker.once('exit', r));
  const flipper = {
    /** Resolves once the thread flips. */
    started: async () => {
      while (Atomics.load(stop, 1) < 10) await Promise.race([new Promise((r) => setTimeout(r, 5)), failed]);
    },
    /** Stops the thread; the number of rounds it made. */
    stop: async () => {
      Atomics.store(stop, 0, 1);
      await Promise.race([exited, failed]);
      return Atomics.load(stop, 1);
    },
  };
  running.push(flipper);
  return flipper;
}
const running: { stop(): Promise<number> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

describe('racing the sandbox: a path swapped while it is read', () => {
  it('a directory swapped for a link out: 0 escapes in 10,000 reads (and plain reads of the same path do escape)', async () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'park-dir'));
    writeFileSync(join(root, 'park-dir', 'f'), 'INSIDE');
    symlinkSync(outside, join(root, 'park-link'));
    const sb = new SandboxFs(root);
    const f = flipper(root, 'flip', ['park-dir', 'park-link']);
    await f.started();
    const seen = { inside: 0, escaped: 0, refused: 0 };
    let plainEscapes = 0;
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      const got = readVia(sb, 'flip/f');
      if (got === null) seen.refused++;
      else if (got === 'INSIDE') seen.inside++;
      else seen.escaped++;
      try {
        if (readFileSync(join(root, 'flip', 'f'), 'utf8') === 'OUTSIDE') plainEscapes++;
      } catch {
        // missing at that moment
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const rounds = await f.stop();
    console.log(`directory/link race: ${JSON.stringify(seen)}, plain reads escaped ${plainEscapes} times, ${rounds} flips in ${seconds.toFixed(2)} s`);
    expect(seen.escaped).toBe(0);
    expect(plainEscapes, 'the attack works on a path looked up as a string').toBeGreaterThan(0);
    expect(seen.inside, 'reads got through while it flipped').toBeGreaterThan(0);
    expect(seen.refused, 'reads were refused while it flipped').toBeGreaterThan(0);
  });

  it('the file itself swapped for a link out or a hard link out: 0 escapes in at least 3,000 reads each, in the walk and in the fallback', async () => {
    const { root, outside } = layout();
    writeFileSync(join(root, 'park-file'), 'INSIDE');
    symlinkSync(join(outside, 'f'), join(root, 'park-link'));
    linkSync(join(outside, 'f'), join(root, 'park-hard'));
    const f = flipper(root, 'flip', ['park-file', 'park-link', 'park-hard']);
    await f.started();
    for (const procFd of [true, false]) {
      const sb = new SandboxFs(root, { procFd });
      const seen = { inside: 0, escaped: 0, refused: 0 };
      // On a loaded machine the flipping thread may not run for a while: read on until one read got through (20 s at most).
      const until = performance.now() + 20_000;
      for (let i = 0; i < 3_000 || (procFd && seen.inside === 0 && performance.now() < until); i++) {
        const got = readVia(sb, 'flip');
        if (got === null) seen.refused++;
        else if (got === 'INSIDE') seen.inside++;
        else seen.escaped++;
      }
      console.log(`file/link race (${procFd ? 'walk' : 'fallback'}): ${JSON.stringify(seen)}`);
      expect(seen.escaped).toBe(0);
      if (procFd) expect(seen.inside, 'reads got through while it flipped').toBeGreaterThan(0);
    }
    await f.stop();
    // The fallback refuses more (a name that changed after its open): it still reads what stands still.
    expect(readVia(new SandboxFs(root, { procFd: false }), 'park-file')).toBe('INSIDE');
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
  });

  it('creating, truncating and removing through a swapped directory: nothing outside is made, changed or removed', async () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'park-dir'));
    symlinkSync(outside, join(root, 'park-link'));
    const sb = new SandboxFs(root);
    const f = flipper(root, 'flip', ['park-dir', 'park-link']);
    await f.started();
    let created = 0, removed = 0;
    for (let i = 0; i < 5_000; i++) {
      const h = sb.open('flip/f', WRITE); // f exists outside: truncated and rewritten if it leaked
      if (h !== null) {
        created++;
        sb.write(h, new TextEncoder().encode('INSIDE'));
        sb.close(h);
      }
      const h2 = sb.open(`flip/new${i % 10}`, WRITE);
      if (h2 !== null) sb.close(h2);
      if (sb.remove('flip/f')) removed++;
    }
    await f.stop();
    console.log(`create/remove race: ${created} created, ${removed} removed inside`);
    expect(readdirSync(outside)).toEqual(['f']);
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
    expect(created).toBeGreaterThan(0);
  });

  it('a guest reading through a swapped directory 1,000 times never reads outside', async () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'park-dir'));
    writeFileSync(join(root, 'park-dir', 'f'), 'INSIDE');
    symlinkSync(outside, join(root, 'park-link'));
    const f = flipper(root, 'flip', ['park-dir', 'park-link']);
    await f.started();
    // Runs of 1,000 reads, again (five at most) while none got through: the flipping thread may not run for a while on a loaded machine.
    let inside = 0;
    for (let run = 0; run < 5 && inside === 0; run++) {
      const r = await guest('race', { fsRoot: root, args: ['flip/f', '1000'] });
      console.log(`guest race: ${r.stdout.trim()}`);
      const [, seen, escaped, refused] = /^inside (\d+) outside (\d+) refused (\d+)\n$/.exec(r.stdout)!.map(Number);
      expect(escaped).toBe(0);
      expect(seen + refused).toBe(1000);
      expect(r.exitCode).toBe(0);
      inside = seen;
    }
    await f.stop();
    expect(inside).toBeGreaterThan(0);
  });
});

describe('what the sandbox refuses', () => {
  it('FIFOs, in every mode and on the way to a file, at once (no open blocks)', async () => {
    const { root } = layout();
    execFileSync('mkfifo', [join(root, 'fifo')]);
    const sb = new SandboxFs(root);
    const modes: OpenMode[] = [READ, { ...READ, read: false, write: true }, { ...READ, write: true }, WRITE, { ...WRITE, exclusive: true }, { ...READ, write: true, append: true }];
    const t0 = performance.now();
    for (const mode of modes) expect(sb.open('fifo', mode)).toBeNull();
    expect(sb.open('fifo/f', READ)).toBeNull();
    expect(sb.remove('fifo')).toBe(false);
    const r = await guest('race', { fsRoot: root, args: ['fifo', '1'] });
    expect(r.stdout).toBe('inside 0 outside 0 refused 1\n');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(lstatSync(join(root, 'fifo')).isFIFO()).toBe(true);
  }, 5000);

  it('hard links to files elsewhere: not read, written, truncated or removed', () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'sub'));
    linkSync(join(outside, 'f'), join(root, 'hard'));
    linkSync(join(outside, 'f'), join(root, 'sub', 'hard'));
    const sb = new SandboxFs(root);
    for (const path of ['hard', 'sub/hard']) {
      expect(readVia(sb, path)).toBeNull();
      expect(sb.open(path, WRITE)).toBeNull(); // would truncate it
      expect(sb.open(path, { ...READ, write: true, append: true })).toBeNull();
      expect(sb.remove(path)).toBe(false);
    }
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
    expect(statSync(join(outside, 'f')).nlink).toBe(3);
  });

  it('links out, dangling links, directories and other mounts: nothing made, read or removed through them', () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'dir'));
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(outside, 'f'), join(root, 'link'));
    symlinkSync(join(outside, 'made'), join(root, 'dangling'));
    symlinkSync('/proc/self', join(root, 'proc'));
    const sb = new SandboxFs(root);
    for (const path of ['out/f', 'link', 'dangling', 'dir', 'dir/', 'proc/status', '../outside/f', 'dir/../../outside/f', join(outside, 'f'), '', 'a\0b']) {
      expect(readVia(sb, path), path).toBeNull();
      expect(sb.open(path, WRITE), path).toBeNull();
      expect(sb.open(path, { ...WRITE, exclusive: true }), path).toBeNull();
      expect(sb.remove(path), path).toBe(false);
    }
    expect(readdirSync(outside)).toEqual(['f']);
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
    expect(lstatSync(join(root, 'link')).isSymbolicLink()).toBe(true);
    // What is the root's own works, in subdirectories too.
    const h = sb.open('dir/./new', WRITE)!;
    expect(sb.write(h, new TextEncoder().encode('INSIDE'))).toBe(6);
    sb.close(h);
    expect(readVia(sb, 'dir//new')).toBe('INSIDE');
    expect(sb.remove('dir/new')).toBe(true);
    expect(readdirSync(join(root, 'dir'))).toEqual([]);
  });

  it('without /proc/self/fd only names in the root itself are allowed', () => {
    const { root } = layout();
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'dir', 'f'), 'INSIDE');
    writeFileSync(join(root, 'f'), 'INSIDE');
    const sb = new SandboxFs(root, { procFd: false });
    expect(readVia(sb, 'f')).toBe('INSIDE');
    expect(readVia(sb, 'dir/f')).toBeNull();
    expect(sb.open('dir/g', WRITE)).toBeNull();
    expect(sb.remove('dir/f')).toBe(false);
    expect(sb.remove('f')).toBe(true);
  });
});

describe('the quota', () => {
  it('ends writes and seeks at the limit (--fs-quota through runSim65)', async () => {
    const { root } = layout();
    const r = await guest('fill', { fsRoot: root, fsQuota: 10_000 });
    // Nine 1 KiB blocks fit in 10,000 bytes; the tenth is refused whole.
    expect(r.stdout).toBe('wrote 9216 bytes, then -1\nseek 1 MiB past the end: -1\nanother file: open ok, write 1\n');
    expect(statSync(join(root, 'fill.bin')).size).toBe(9216);
    expect(statSync(join(root, 'more.bin')).size).toBe(1);
  });

  it('is 64 MiB by default: a write that leaves a hole counts the hole', () => {
    const { root } = layout();
    const sb = new SandboxFs(root);
    expect(sb.quota).toBe(64 * 1024 * 1024);
    const h = sb.open('f', WRITE)!;
    expect(sb.seek(h, DEFAULT_FS_QUOTA + 1, 'set')).toBe(-1); // past the furthest a write could reach
    expect(sb.seek(h, DEFAULT_FS_QUOTA - 1, 'set')).toBe(DEFAULT_FS_QUOTA - 1);
    expect(sb.write(h, new Uint8Array(2))).toBe(-1);
    expect(sb.write(h, new Uint8Array(1))).toBe(1);
    expect(sb.write(h, new Uint8Array(1))).toBe(-1);
    sb.close(h);
    expect(statSync(join(root, 'f')).size).toBe(DEFAULT_FS_QUOTA);
  });

  it('counts the holes a seek leaves, not rewritten bytes; truncating gives nothing back', () => {
    const { root } = layout();
    const sb = new SandboxFs(root, { quota: 1000 });
    const h = sb.open('f', { ...WRITE, read: true })!;
    const bytes = (n: number) => new Uint8Array(n);
    expect(sb.seek(h, 2000, 'set')).toBe(-1); // past what a write could reach
    expect(sb.seek(h, 990, 'set')).toBe(990);
    expect(sb.write(h, bytes(11))).toBe(-1); // 1001 bytes of growth
    expect(sb.write(h, bytes(10))).toBe(10);
    expect(sb.used).toBe(1000);
    for (let i = 0; i < 100; i++) expect(sb.seek(h, 0, 'set') === 0 && sb.write(h, bytes(1000))).toBe(1000); // rewriting is free
    expect(sb.seek(h, 1, 'end')).toBe(-1);
    expect(sb.write(h, bytes(1))).toBe(-1);
    sb.close(h);
    const again = sb.open('f', WRITE)!; // truncated
    expect(sb.write(again, bytes(1))).toBe(-1);
    sb.close(again);
    expect(statSync(join(root, 'f')).size).toBe(0);
    expect(() => new SandboxFs(root, { quota: -1 })).toThrow(RangeError);
  });

  it('on the command line: --fs-quota BYTES, needing --fs-root, a clear error for a bad number', async () => {
    const { root } = layout();
    let stdout = '', stderr = '';
    const io = { stdout: (t: string | Uint8Array) => (stdout += typeof t === 'string' ? t : new TextDecoder().decode(t)), stderr: (t: string) => (stderr += t) };
    const fill = join(programs, 'fill.prg');
    expect(await main(['run', '--fs-root', root, '--fs-quota', '0x800', fill], io)).toBe(0);
    expect(stdout).toBe('wrote 2048 bytes, then -1\nseek 1 MiB past the end: -1\nanother file: open ok, write -1\n');
    expect(await main(['run', '--fs-quota', '1000', fill], io)).toBe(2);
    expect(stderr).toMatch(/--fs-quota .*--fs-root/);
    expect(await main(['run', '--fs-root', root, '--fs-quota', '64M', fill], io)).toBe(2);
    expect(stderr).toMatch(/--fs-quota: "64M" is not a number/);
    expect(stderr.trim().split('\n')).toHaveLength(2);
  });
});

describe('lseek returns a 32-bit offset', () => {
  it('past 64 KiB, as a long: low word in A/X, high word in sreg', async () => {
    const { root } = layout();
    const r = await guest('seek32', { fsRoot: root });
    expect(r.stdout).toBe(
      [
        'SET 74565                    74565',
        'CUR 0                        74568',
        'END 0                        74568',
        'END -3                       74565',
        'read back: far',
        'SET 65536                    65536',
        'the hole reads 0',
        'CUR -65537                   0',
        'read back: star',
        'SET -1                       -1',
        'bad whence                   -1',
        'SET 2^31-1 (past the quota)  -1',
        'stdout                       -1',
        '0 wrong',
        '',
      ].join('\n'),
    );
    expect(r.exitCode).toBe(0);
    expect(statSync(join(root, 'big.bin')).size).toBe(74568);
  });
});

describe('--fs-root /', () => {
  it('opens paths relative to /, on its filesystem only', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'f'), 'INSIDE');
    const sb = new SandboxFs('/');
    const path = relative('/', join(root, 'f'));
    // A file on another mount than / (a tmpfs /tmp, say) is refused as another device's.
    const sameDevice = statSync(root).dev === statSync('/').dev;
    expect(readVia(sb, path)).toBe(sameDevice ? 'INSIDE' : null);
    expect(readVia(sb, 'proc/self/status')).toBeNull(); // /proc is another mount
    expect(readVia(sb, '/' + path)).toBeNull(); // guest paths are relative to the root
    const r = await guest('race', { fsRoot: '/', args: [path, '3'] });
    expect(r.stdout).toBe(sameDevice ? 'inside 3 outside 0 refused 0\n' : 'inside 0 outside 0 refused 3\n');
    expect(existsSync(join(root, 'f'))).toBe(true);
  });
});
