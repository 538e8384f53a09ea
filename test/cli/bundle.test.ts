// The bundled command (scripts/build-cli.ts), as the package's bin runs it:
// the launcher, the one-file bundle and V8's code cache beside it.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Script } from 'node:vm';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const launcher = join(root, 'dist/cli/hyper6502.cjs');
const run = (args: string[], input = '') => spawnSync(process.execPath, [launcher, ...args], { input, encoding: 'utf8' });

describe('the bundled command', () => {
  it('is the package bin', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.bin.hyper6502).toBe('dist/cli/hyper6502.cjs');
  });

  it('runs a sim65 program with its output and exit status', () => {
    const r = run(['run', join(root, 'test/programs/hello.prg')]);
    expect(r.stdout).toBe('hello from assembly\n');
    expect(r.status).toBe(5);
  });

  it('runs a raw binary to its self-loop and prints its statistics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyper6502-bundle-'));
    try {
      const file = join(dir, 'loop.bin');
      writeFileSync(file, Uint8Array.of(0xa2, 0x05, 0xca, 0xd0, 0xfd, 0x4c, 0x05, 0x00)); // LDX #5; DEX; BNE; JMP *
      const r = run(['run', '--stats', '--stop-on-self-loop', '--start', '0', file]);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stderr)).toMatchObject({ reason: 'self-loop', pc: 5, x: 0, cycles: 29, instructions: 12 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a usage error in one line with status 2', () => {
    const r = run(['run', '--no-such-option']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('has a code cache that this Node accepts', () => {
    const bundle = join(root, 'dist/cli/hyper6502.bundle.cjs');
    const script = new Script(readFileSync(bundle, 'utf8'), { filename: bundle, cachedData: readFileSync(join(root, 'dist/cli/hyper6502.bundle.cache')) });
    expect(script.cachedDataRejected).toBe(false);
  });
});
