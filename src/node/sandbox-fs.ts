// A GuestFileSystem for Node confined to one directory (`--fs-root DIR`).
//
// How to drive this: `new SandboxFs('/some/dir')` and hand it to Sim65Host.
// The guest may open, create, read, write, seek and remove files under the
// root and nowhere else: absolute paths, ".." segments and symbolic links
// that lead out of the root are refused (the call returns -1 to the guest).

import * as fs from 'node:fs';
import { isAbsolute, join, dirname, sep } from 'node:path';
import type { GuestFileSystem, OpenMode } from '../devices/sim65.js';

export class SandboxFs implements GuestFileSystem {
  private readonly root: string;

  constructor(root: string) {
    let real: string;
    try {
      real = fs.realpathSync(root);
    } catch {
      throw new Error(`--fs-root ${root}: no such directory`);
    }
    if (!fs.statSync(real).isDirectory()) throw new Error(`--fs-root ${root}: not a directory`);
    this.root = real;
  }

  private inside(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }

  /** The host path for a guest path, or null when it would leave the root. */
  private resolve(guestPath: string): string | null {
    if (!guestPath || guestPath.includes('\0') || isAbsolute(guestPath) || /^[a-zA-Z]:/.test(guestPath)) return null;
    if (guestPath.split(/[\\/]+/).some((part) => part === '..')) return null;
    const full = join(this.root, guestPath);
    // Follow what exists: the file itself, or the folder it would be created in.
    for (let p = full; ; p = dirname(p)) {
      if (fs.existsSync(p) || isDanglingLink(p)) {
        let real: string;
        try {
          real = fs.realpathSync(p);
        } catch {
          return null; // a link to nowhere
        }
        return this.inside(real) ? full : null;
      }
      if (p === this.root || dirname(p) === p) return null;
    }
  }

  open(path: string, mode: OpenMode): unknown | null {
    const host = this.resolve(path);
    if (host === null) return null;
    const c = fs.constants;
    let flags = mode.read && mode.write ? c.O_RDWR : mode.write ? c.O_WRONLY : c.O_RDONLY;
    if (mode.create) flags |= c.O_CREAT;
    if (mode.truncate) flags |= c.O_TRUNC;
    if (mode.append) flags |= c.O_APPEND;
    if (mode.exclusive) flags |= c.O_EXCL;
    if (c.O_NOFOLLOW !== undefined) flags |= c.O_NOFOLLOW;
    try {
      if (fs.existsSync(host) && fs.statSync(host).isDirectory()) return null;
      return { fd: fs.openSync(host, flags, 0o644), position: 0, append: mode.append };
    } catch {
      return null;
    }
  }

  read(handle: unknown, count: number): Uint8Array | null {
    const h = handle as OpenFile;
    try {
      const buf = new Uint8Array(count);
      const n = fs.readSync(h.fd, buf, 0, count, h.position);
      h.position += n;
      return buf.subarray(0, n);
    } catch {
      return null;
    }
  }

  write(handle: unknown, bytes: Uint8Array): number {
    const h = handle as OpenFile;
    try {
      if (h.append) h.position = fs.fstatSync(h.fd).size;
      const n = fs.writeSync(h.fd, bytes, 0, bytes.length, h.position);
      h.position += n;
      return n;
    } catch {
      return -1;
    }
  }

  seek(handle: unknown, offset: number, whence: 'cur' | 'end' | 'set'): number {
    const h = handle as OpenFile;
    try {
      const base = whence === 'set' ? 0 : whence === 'cur' ? h.position : fs.fstatSync(h.fd).size;
      const next = base + offset;
      if (next < 0) return -1;
      h.position = next;
      return next & 0xffff;
    } catch {
      return -1;
    }
  }

  close(handle: unknown): void {
    try {
      fs.closeSync((handle as OpenFile).fd);
    } catch {
      // already closed
    }
  }

  remove(path: string): boolean {
    const host = this.resolve(path);
    if (host === null) return false;
    try {
      if (fs.lstatSync(host).isDirectory()) return false;
      fs.unlinkSync(host);
      return true;
    } catch {
      return false;
    }
  }
}

interface OpenFile {
  fd: number;
  position: number;
  append: boolean;
}

function isDanglingLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
