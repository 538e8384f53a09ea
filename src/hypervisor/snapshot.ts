// The snapshot file format: a magic, a format version of its own, versioned
// sections, a CRC32 over everything.
//
// How to drive this:
//   const bytes = encodeSnapshot('full', [{ tag: 'CORE', version: 1, data }, ...]);
//   const snap = decodeSnapshot(bytes);     // throws SnapshotError, naming the problem
//   snap.section('CORE')                    // the data, checked against its version
//
// Layout (little-endian):
//   0   "HYP6502S"                     magic, 8 bytes
//   8   u16 format version             FORMAT_VERSION; independent of the package version
//   10  u8  kind                       0 full, 1 diff
//   11  u8  reserved (0)
//   12  u16 number of sections
//   14  sections: 4-byte ASCII tag, u16 section version, u32 length, data
//   end u32 CRC32 (IEEE) of every byte before it
// A reader checks the length, the magic and the CRC before it looks at
// anything else, rejects unknown or repeated sections and lengths that run
// past the end, and never half-applies a snapshot: see vm-host.ts.

import { nativeCrc32 } from '../platform/node.js';

export const SNAPSHOT_MAGIC = 'HYP6502S';
export const FORMAT_VERSION = 1;

export type SnapshotErrorCode =
  | 'empty'
  | 'truncated'
  | 'bad-magic'
  | 'bad-crc'
  | 'unsupported-version'
  | 'bad-kind'
  | 'unknown-section'
  | 'duplicate-section'
  | 'missing-section'
  | 'bad-length'
  | 'bad-section'
  | 'bad-diff-chain';

export class SnapshotError extends Error {
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(`snapshot rejected: ${message}`);
    this.name = 'SnapshotError';
  }
}

export interface Section {
  tag: string;
  version: number;
  data: Uint8Array;
}

/** Section tags and the versions this build reads. */
export const SECTION_VERSIONS: Record<string, number> = {
  META: 1, // identity, snapshot ids, VM state and scheduling (JSON)
  SPEC: 1, // what the VM was built from (JSON)
  CORE: 1, // the CPU's registers and run state
  RAM_: 1, // all 64 KiB of guest memory (full snapshots)
  PAGE: 1, // dirty pages only (diff snapshots)
  DEVS: 2, // each device's state (version 2: devices named by their ids; console input lives in CONS)
  CONS: 2, // console buffers and the machine's power state (version 2: the console's own state)
};

const HEADER = 14;

export function encodeSnapshot(kind: 'full' | 'diff', sections: Section[]): Uint8Array {
  const size = HEADER + sections.reduce((n, s) => n + 10 + s.data.length, 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = SNAPSHOT_MAGIC.charCodeAt(i);
  view.setUint16(8, FORMAT_VERSION, true);
  out[10] = kind === 'full' ? 0 : 1;
  view.setUint16(12, sections.length, true);
  let p = HEADER;
  for (const s of sections) {
    for (let i = 0; i < 4; i++) out[p + i] = s.tag.charCodeAt(i);
    view.setUint16(p + 4, s.version, true);
    view.setUint32(p + 6, s.data.length, true);
    out.set(s.data, p + 10);
    p += 10 + s.data.length;
  }
  view.setUint32(p, crc32(out.subarray(0, p)), true);
  return out;
}

export interface DecodedSnapshot {
  kind: 'full' | 'diff';
  sections: Map<string, Section>;
  bytes: number;
  /** The data of a required section. */
  section(tag: string): Uint8Array;
}

export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('bad-magic', 'not a byte array');
  if (bytes.length === 0) throw new SnapshotError('empty', 'the snapshot is empty (0 bytes)');
  if (bytes.length < HEADER + 4) throw new SnapshotError('truncated', `only ${bytes.length} bytes, less than a snapshot header`);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC.charCodeAt(i)) throw new SnapshotError('bad-magic', 'this is not a hyper6502 snapshot (wrong magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  if (stored !== actual) throw new SnapshotError('bad-crc', `CRC mismatch (stored ${hex32(stored)}, computed ${hex32(actual)}): the file is damaged or truncated`);
  const version = view.getUint16(8, true);
  if (version !== FORMAT_VERSION) {
    throw new SnapshotError('unsupported-version', `format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`);
  }
  const kindByte = bytes[10];
  if (kindByte > 1 || bytes[11] !== 0) throw new SnapshotError('bad-kind', `unknown snapshot kind ${kindByte}`);
  const count = view.getUint16(12, true);
  const sections = new Map<string, Section>();
  let p = HEADER;
  for (let n = 0; n < count; n++) {
    if (p + 10 > end) throw new SnapshotError('bad-length', `section ${n + 1} of ${count} starts past the end of the data`);
    const tag = String.fromCharCode(bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]);
    const sectionVersion = view.getUint16(p + 4, true);
    const length = view.getUint32(p + 6, true);
    if (!(tag in SECTION_VERSIONS)) throw new SnapshotError('unknown-section', `unknown section "${printable(tag)}"`);
    if (sectionVersion !== SECTION_VERSIONS[tag]) {
      throw new SnapshotError('unsupported-version', `section ${tag} version ${sectionVersion} is not supported (this build reads version ${SECTION_VERSIONS[tag]})`);
    }
    if (sections.has(tag)) throw new SnapshotError('duplicate-section', `section ${tag} appears twice`);
    if (length > end - (p + 10)) throw new SnapshotError('bad-length', `section ${tag} claims ${length} bytes, more than the ${end - (p + 10)} left`);
    sections.set(tag, { tag, version: sectionVersion, data: bytes.subarray(p + 10, p + 10 + length) });
    p += 10 + length;
  }
  if (p !== end) throw new SnapshotError('bad-length', `${end - p} bytes follow the last section`);
  return {
    kind: kindByte === 0 ? 'full' : 'diff',
    sections,
    bytes: bytes.length,
    section(tag: string) {
      const s = sections.get(tag);
      if (!s) throw new SnapshotError('missing-section', `section ${tag} is missing`);
      return s.data;
    },
  };
}

function printable(tag: string): string {
  return [...tag].map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
}

function hex32(n: number): string {
  return '$' + n.toString(16).toUpperCase().padStart(8, '0');
}

// Slicing-by-8: eight tables, eight bytes a step (several times faster than a byte at a time).
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();


/** CRC-32 (IEEE 802.3), as zlib and PNG compute it (natively where the platform can: Node's zlib, about six times faster). */
export function crc32(bytes: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(bytes) >>> 0 : crc32Js(bytes);
}

/** The same in plain JavaScript, for browsers and older Node. */
export function crc32Js(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
