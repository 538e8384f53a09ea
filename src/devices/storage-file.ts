// A BlockStore backed by a host file (Node only).
//
// How to drive this: `new NodeFileBlockStore('disk.img')`; the file's size
// must be a whole number of 512-byte sectors. `close()` when done.

import { openSync, readSync, writeSync, fstatSync, closeSync } from 'node:fs';
import { SECTOR_SIZE, type BlockStore } from './storage.js';

export class NodeFileBlockStore implements BlockStore {
  readonly sectors: number;
  private readonly fd: number;

  constructor(path: string, readonly readOnly = false) {
    this.fd = openSync(path, readOnly ? 'r' : 'r+');
    const size = fstatSync(this.fd).size;
    if (size % SECTOR_SIZE) {
      closeSync(this.fd);
      throw new RangeError(`${path}: ${size} bytes is not a whole number of ${SECTOR_SIZE}-byte sectors`);
    }
    this.sectors = size / SECTOR_SIZE;
  }

  read(sector: number, into: Uint8Array) {
    readSync(this.fd, into, 0, SECTOR_SIZE, sector * SECTOR_SIZE);
  }

  write(sector: number, from: Uint8Array) {
    writeSync(this.fd, from, 0, SECTOR_SIZE, sector * SECTOR_SIZE);
  }

  close() {
    closeSync(this.fd);
  }
}
