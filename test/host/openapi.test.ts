// The OpenAPI description (src/host/openapi.json) and the routes the server
// serves (src/host/routes.ts) name the same operations, both ways.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../src/host/routes.ts';

const doc = JSON.parse(readFileSync(join(import.meta.dirname, '../../src/host/openapi.json'), 'utf8'));

describe('openapi.json', () => {
  it('describes every route the server serves, and no other', () => {
    const served = ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(described).toEqual(served);
  });

  it('says which are WebSockets (101), and that every operation needs the token (401)', () => {
    for (const r of ROUTES) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      expect(Object.keys(op.responses).includes('101'), `${r.method} ${r.path}`).toBe(!!r.upgrade);
      expect(op.responses['401'], `${r.method} ${r.path}`).toBeDefined();
      expect(op.operationId).toMatch(/^[a-zA-Z]+$/);
    }
    expect(doc.security).toEqual([{ bearer: [] }]);
  });
});
