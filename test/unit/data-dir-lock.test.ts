import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/store/data-dir-lock.js';

describe('lockDataDir', () => {
  it('refuses a second holder while the first lives, and frees the lock on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rembus-lock-'));
    const release = lockDataDir(dir, 'b');
    expect(readFileSync(join(dir, 'b.lock'), 'utf8')).toBe(String(process.pid));
    expect(() => lockDataDir(dir, 'b')).toThrow(DataDirLockedError);
    const other = lockDataDir(dir, 'other'); // another broker name in the same directory
    release();
    release(); // idempotent
    expect(existsSync(join(dir, 'b.lock'))).toBe(false);
    lockDataDir(dir, 'b')();
    other();
  });

  it('takes over the lock of a process that is gone (a SIGKILLed broker)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rembus-lock-'));
    writeFileSync(join(dir, 'b.lock'), '2147483646'); // no such pid
    const release = lockDataDir(dir, 'b');
    expect(readFileSync(join(dir, 'b.lock'), 'utf8')).toBe(String(process.pid));
    release();
  });
});
