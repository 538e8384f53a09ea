// A GuestFileSystem for Node confined to one directory (`--fs-root DIR`).
//
// How to drive this: `new SandboxFs('/some/dir', { quota: 1 << 20 })` and
// hand it to Sim65Host (runMachine's `fsRoot` and `fsQuota` do). The guest may
// open, create, read, write, seek and remove regular files under the root and
// nothing else; whatever it may not have is refused (-1 to the guest):
//
// * A path is walked a name at a time from a handle on the root, never looked
//   up as a string: on Linux each directory is opened through
//   /proc/self/fd/N/NAME (in effect openat(N, NAME)) with O_DIRECTORY |
//   O_NOFOLLOW, the file with O_NOFOLLOW, so a name swapped for a symbolic
//   link at any moment fails the open instead of leading out. Absolute paths
//   and ".." are refused.
// * Only regular files are opened, and non-blocking (a FIFO cannot stall the
//   host in open); only the root's own: one link (a hard link to a file
//   elsewhere is refused) on the root's device (another mount is refused).
//   This is checked on the opened descriptor before anything is truncated; a
//   new file is made with O_EXCL, which never follows a link.
// * remove unlinks a name in a directory held open, which never follows the
//   name: at worst it takes a name from a directory inside the root.
// * The guest's files may grow by `quota` bytes in a run (default 64 MiB),
//   counted at every write past a file's end (a hole it leaves included); a
//   write that would pass it returns -1 and writes nothing, and so does a seek
//   past the furthest a write could reach. Truncating or removing a file
//   gives nothing back.
//
// Without /proc/self/fd (not Linux, or /proc not mounted) a path cannot be
// walked safely, so only names directly in the root are allowed, and the
// opened file is checked after the open to be the one-link file of that name.

import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, readSync, realpathSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { GuestFileSystem, OpenMode } from '../devices/sim65.js';

/** How much the guest's files may grow in one run unless told otherwise: 64 MiB. */
export const DEFAULT_FS_QUOTA = 64 * 1024 * 1024;

export interface SandboxFsOptions {
  /** Bytes the guest's files may grow by in this run, in total (default DEFAULT_FS_QUOTA). */
  quota?: number;
  /** Walk paths through /proc/self/fd (default: when the system has it); false gives the fallback, names in the root only. */
  procFd?: boolean;
}

const C = constants;
// Windows has neither: there the fallback holds, and a new file is made with O_EXCL alone.
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const NONBLOCK = C.O_NONBLOCK ?? 0;
const DIRECTORY = C.O_DIRECTORY ?? 0;
/** The largest offset lseek can return to a guest: a cc65 long is signed. */
const MAX_OFFSET = 0x7fffffff;

export class SandboxFs implements GuestFileSystem {
  /** The root, with its symbolic links resolved. */
  readonly root: string;
  readonly quota: number;
  private readonly dev: number;
  private readonly ino: number;
  private readonly procFd: boolean;
  private grown = 0;

  constructor(root: string, options: SandboxFsOptions = {}) {
    const quota = options.quota ?? DEFAULT_FS_QUOTA;
    if (!Number.isSafeInteger(quota) || quota < 0) throw new RangeError(`fs quota: ${quota} is not a number of bytes (0 or more)`);
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      throw new Error(`--fs-root ${root}: no such directory`);
    }
    const st = statSync(real);
    if (!st.isDirectory()) throw new Error(`--fs-root ${root}: not a directory`);
    this.root = real;
    this.quota = quota;
    this.dev = st.dev;
    this.ino = st.ino;
    this.procFd = options.procFd ?? hasProcFd(real, st);
  }

  /** Bytes the guest's files have grown by so far. */
  get used(): number {
    return this.grown;
  }

  open(path: string, mode: OpenMode): unknown | null {
    return this.at(path, null, (place): OpenFile | null => {
      const found = lstatOrNull(place);
      if (found ? !this.owns(found) || (mode.create && mode.exclusive) : !mode.create) return null;
      let flags = (mode.read && mode.write ? C.O_RDWR : mode.write ? C.O_WRONLY : C.O_RDONLY) | NOFOLLOW | NONBLOCK;
      if (mode.append) flags |= C.O_APPEND;
      if (!found) flags |= C.O_CREAT | C.O_EXCL; // what is there when it opens is what it made
      const fd = openSync(place, flags, 0o644);
      try {
        const st = fstatSync(fd);
        if (!this.owns(st)) return closed(fd);
        if (!this.procFd) {
          // The name may have been a link when it was opened: it must be this file, now.
          const now = lstatOrNull(place);
          if (!now || now.ino !== st.ino || now.dev !== st.dev) return closed(fd);
        }
        if (mode.truncate && mode.write) ftruncateSync(fd, 0);
      } catch {
        return closed(fd);
      }
      return { fd, position: 0, append: mode.append };
    });
  }

  read(handle: unknown, count: number): Uint8Array | null {
    const h = handle as OpenFile;
    try {
      const buf = new Uint8Array(count);
      const n = readSync(h.fd, buf, 0, count, h.position);
      h.position += n;
      return buf.subarray(0, n);
    } catch {
      return null;
    }
  }

  write(handle: unknown, bytes: Uint8Array): number {
    const h = handle as OpenFile;
    try {
      const size = fstatSync(h.fd).size;
      const at = h.append ? size : h.position;
      if (at + bytes.length - size > this.quota - this.grown) return -1; // the disk is "full"
      const n = writeSync(h.fd, bytes, 0, bytes.length, at);
      this.grown += Math.max(0, at + n - size);
      h.position = at + n;
      return n;
    } catch {
      return -1;
    }
  }

  seek(handle: unknown, offset: number, whence: 'cur' | 'end' | 'set'): number {
    const h = handle as OpenFile;
    try {
      const size = fstatSync(h.fd).size;
      const next = (whence === 'set' ? 0 : whence === 'cur' ? h.position : size) + offset;
      if (next < 0 || next > MAX_OFFSET || next - size > this.quota - this.grown) return -1;
      h.position = next;
      return next;
    } catch {
      return -1;
    }
  }

  close(handle: unknown): void {
    try {
      closeSync((handle as OpenFile).fd);
    } catch {
      // already closed
    }
  }

  remove(path: string): boolean {
    return this.at(path, false, (place) => {
      const found = lstatOrNull(place);
      if (!found || !this.owns(found)) return false;
      unlinkSync(place); // never follows the name: only a name in a directory of the root goes
      return true;
    });
  }

  /** A regular file of the root's own: one link, on the root's device. */
  private owns(st: Stats): boolean {
    return st.isFile() && st.nlink === 1 && st.dev === this.dev;
  }

  /**
   * Runs `f` on a path that names the last name of `guestPath` in its
   * directory, held open while `f` runs (/proc/self/fd/N/NAME); `refused` when
   * the path is not allowed, a directory on the way cannot be opened, or `f`
   * throws.
   */
  private at<T>(guestPath: string, refused: T, f: (place: string) => T): T {
    const names = this.names(guestPath);
    if (!names) return refused;
    if (!this.procFd) {
      const st = statOrNull(this.root);
      if (!st || st.ino !== this.ino || st.dev !== this.dev) return refused; // the root was replaced
      try {
        return f(join(this.root, names[0]));
      } catch {
        return refused;
      }
    }
    let dir: number;
    try {
      dir = openSync(this.root, C.O_RDONLY | DIRECTORY | NOFOLLOW | NONBLOCK);
    } catch {
      return refused;
    }
    try {
      const st = fstatSync(dir);
      if (st.ino !== this.ino || st.dev !== this.dev) return refused;
      for (const name of names.slice(0, -1)) {
        const next = openSync(`/proc/self/fd/${dir}/${name}`, C.O_RDONLY | DIRECTORY | NOFOLLOW | NONBLOCK);
        closeSync(dir);
        dir = next;
        if (fstatSync(dir).dev !== this.dev) return refused; // another mount
      }
      return f(`/proc/self/fd/${dir}/${names[names.length - 1]}`);
    } catch {
      return refused;
    } finally {
      closeSync(dir);
    }
  }

  /** The names of a guest's path, or null when it may not be used. */
  private names(guestPath: string): string[] | null {
    if (!guestPath || guestPath.includes('\0') || isAbsolute(guestPath) || /^[a-zA-Z]:/.test(guestPath) || /[\\/]$/.test(guestPath)) return null;
    const names = guestPath.split(/[\\/]+/).filter((n) => n !== '' && n !== '.');
    if (names.length === 0 || names.includes('..')) return null;
    if (!this.procFd && names.length > 1) return null; // no safe walk: names in the root only
    return names;
  }
}

interface OpenFile {
  fd: number;
  position: number;
  append: boolean;
}

function closed(fd: number): null {
  closeSync(fd);
  return null;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/** Whether a directory descriptor works as a base here, as /proc/self/fd/N/NAME. */
function hasProcFd(root: string, st: Stats): boolean {
  if (!DIRECTORY || !NOFOLLOW) return false;
  let fd = -1;
  try {
    fd = openSync(root, C.O_RDONLY | DIRECTORY);
    const via = statSync(`/proc/self/fd/${fd}/.`);
    return via.ino === st.ino && via.dev === st.dev;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
