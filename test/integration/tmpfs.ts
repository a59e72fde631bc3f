/**
 * A small tmpfs for the tests that fill a disk (disk-full, lmdb-fsync-always): `mount` needs
 * root, so `canMountTmpfs` is probed once at load and the suites that need it say so in their
 * skip reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a 3 MiB tmpfs on `dir`; false when this process may not mount. */
export function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Unmounts `dir` lazily (a store may still hold a file open in it). */
export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir]);
}

/** Whether a tmpfs can be mounted here (tried once on a temporary directory). */
export async function canMountTmpfs(): Promise<boolean> {
  const probe = await mkdtemp(join(tmpdir(), 'rembus-tmpfs-probe-'));
  const can = tryMount(probe);
  if (can) execFileSync('umount', [probe]);
  await rm(probe, { recursive: true, force: true });
  return can;
}

/** Fills the disk holding `dir` with 64 KiB files until a write fails; returns the files written. */
export async function fillDisk(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const file = join(dir, `filler-${i}`);
    try {
      await writeFile(file, Buffer.alloc(65_536, 1));
      files.push(file);
    } catch {
      await unlink(file).catch(() => undefined);
      return files;
    }
  }
}
