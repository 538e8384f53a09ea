// A block storage device: 512-byte sectors moved by DMA between a backing
// store and guest RAM.
//
// How to drive this: map it at 8 addresses over a `BlockStore` (a byte array
// with `new MemoryBlockStore(bytes)`, or a host file: NodeFileBlockStore in
// storage-file.ts). Registers: 0-1 sector number (little-endian), 2-3 DMA
// address, 4 command (write 1: read the sector into RAM at the DMA address,
// 2: write RAM to the sector), 5 status (0 done, 1 sector out of range,
// 2 read-only, 3 I/O error), 6-7 number of sectors (read-only). Transfers
// wrap at $FFFF and complete at once.

import { StateReader, StateWriter, type Device, type DeviceContext, type DeviceType } from './device.js';

export const SECTOR_SIZE = 512;

export interface BlockStore {
  readonly sectors: number;
  readonly readOnly: boolean;
  read(sector: number, into: Uint8Array): void;
  write(sector: number, from: Uint8Array): void;
}

export class MemoryBlockStore implements BlockStore {
  readonly sectors: number;
  constructor(readonly bytes: Uint8Array, readonly readOnly = false) {
    if (bytes.length % SECTOR_SIZE) throw new RangeError(`storage of ${bytes.length} bytes is not a whole number of ${SECTOR_SIZE}-byte sectors`);
    this.sectors = bytes.length / SECTOR_SIZE;
  }
  read(sector: number, into: Uint8Array) {
    into.set(this.bytes.subarray(sector * SECTOR_SIZE, (sector + 1) * SECTOR_SIZE));
  }
  write(sector: number, from: Uint8Array) {
    this.bytes.set(from, sector * SECTOR_SIZE);
  }
}

export const STATUS_OK = 0;
export const STATUS_RANGE = 1;
export const STATUS_READ_ONLY = 2;
export const STATUS_IO_ERROR = 3;

export class BlockStorage implements Device {
  readonly name = 'storage';
  private ctx?: DeviceContext;
  private sector = 0;
  private dma = 0;
  private status = STATUS_OK;

  constructor(readonly store: BlockStore) {}

  attach(ctx: DeviceContext) {
    this.ctx = ctx;
  }

  read(offset: number): number {
    switch (offset & 7) {
      case 0: return this.sector & 0xff;
      case 1: return this.sector >> 8;
      case 2: return this.dma & 0xff;
      case 3: return this.dma >> 8;
      case 5: return this.status;
      case 6: return Math.min(this.store.sectors, 0xffff) & 0xff;
      case 7: return Math.min(this.store.sectors, 0xffff) >> 8;
      default: return 0;
    }
  }

  write(offset: number, value: number) {
    switch (offset & 7) {
      case 0: this.sector = (this.sector & 0xff00) | value; break;
      case 1: this.sector = (this.sector & 0xff) | (value << 8); break;
      case 2: this.dma = (this.dma & 0xff00) | value; break;
      case 3: this.dma = (this.dma & 0xff) | (value << 8); break;
      case 4: this.status = this.transfer(value); break;
    }
  }

  private transfer(command: number): number {
    if (command !== 1 && command !== 2) return this.status;
    if (this.sector >= this.store.sectors) return STATUS_RANGE;
    if (command === 2 && this.store.readOnly) return STATUS_READ_ONLY;
    const ctx = this.ctx!;
    const buf = new Uint8Array(SECTOR_SIZE);
    try {
      if (command === 1) {
        this.store.read(this.sector, buf);
        for (let i = 0; i < SECTOR_SIZE; i++) ctx.poke(this.dma + i, buf[i]);
      } else {
        for (let i = 0; i < SECTOR_SIZE; i++) buf[i] = ctx.ram[(this.dma + i) & 0xffff];
        this.store.write(this.sector, buf);
      }
    } catch {
      return STATUS_IO_ERROR;
    }
    return STATUS_OK;
  }

  reset() {
    this.sector = this.dma = 0;
    this.status = STATUS_OK;
  }

  /** Registers, and the contents of an in-memory store (a host file keeps its own). */
  save(): Uint8Array {
    const contents = this.store instanceof MemoryBlockStore ? this.store.bytes : new Uint8Array(0);
    return new StateWriter().u16(this.sector).u16(this.dma).u8(this.status).blob(contents).done();
  }

  load(state: Uint8Array) {
    const r = new StateReader(state, 'storage');
    const sector = r.u16();
    const dma = r.u16();
    const status = r.u8();
    const contents = r.blob();
    r.end();
    if (status > STATUS_IO_ERROR) throw new Error(`storage state: status ${status} is not valid`);
    if (!(this.store instanceof MemoryBlockStore) && contents.length) throw new Error('storage state holds contents for a disk that is a host file');
    if (this.store instanceof MemoryBlockStore) {
      if (contents.length !== this.store.bytes.length) throw new Error(`storage state holds ${contents.length} bytes for a ${this.store.bytes.length}-byte store`);
      this.store.bytes.set(contents);
    }
    this.sector = sector;
    this.dma = dma;
    this.status = status;
  }
}

/** Most bytes of a disk image a description may hold (a larger disk is a host file: storage-file.ts). */
export const STORAGE_IMAGE_MAX = 16 * 1024 * 1024;

export const STORAGE: DeviceType = {
  type: 'storage',
  summary: 'block storage: 512-byte sectors by DMA; 0-1 sector, 2-3 DMA address, 4 command, 5 status, 6-7 sectors',
  size: 8,
  options: {
    image: { kind: 'bytes', max: STORAGE_IMAGE_MAX, doc: 'the disk contents (a whole number of 512-byte sectors)' },
    sectors: { kind: 'integer', min: 1, max: STORAGE_IMAGE_MAX / SECTOR_SIZE, default: 64, doc: 'size of an empty disk, in sectors (without image)' },
    readOnly: { kind: 'boolean', default: false, doc: 'refuse writes (status 2)' },
  },
  create(o, env) {
    const store = env.services.blockStore as BlockStore | undefined;
    if (store) return new BlockStorage(store);
    const image = o.image as Uint8Array | undefined;
    return new BlockStorage(new MemoryBlockStore(image ? image.slice() : new Uint8Array((o.sectors as number) * SECTOR_SIZE), o.readOnly as boolean));
  },
};
