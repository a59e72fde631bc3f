import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageLog } from '../../src/broker/message-log.js';
import { memoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/types.js';
import type { Logger } from '../../src/types.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const pub = { type: 'pub' as const, flags: 0, topic: 't', args: [1] };

describe('MessageLog receive clock', () => {
  let log: MessageLog | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await log?.close();
  });

  it('hands out strictly increasing times within a millisecond, across them, and when the clock goes back', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000 });
    log = new MessageLog(memoryStore(), 60_000, 1_000_000, quiet);
    const times: bigint[] = [];
    for (let i = 0; i < 5; i++) times.push(log.append(pub, undefined));
    vi.setSystemTime(1_001);
    times.push(log.append(pub, undefined));
    vi.setSystemTime(990); // an NTP step back: the clock never goes back with it
    for (let i = 0; i < 3; i++) times.push(log.append(pub, undefined));
    vi.setSystemTime(1_001);
    times.push(log.append(pub, undefined));
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
    expect(times[0]).toBe(1_000_000_000n);
    expect(times[5]).toBe(1_001_000_000n);
  });

  it('continues after what the store holds, even within the same millisecond', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 2_000 });
    log = new MessageLog(memoryStore(), 60_000, 1_000_000, quiet);
    expect(log.append(pub, undefined)).toBe(2_000_000_000n);
    const ahead = memoryStore();
    (ahead as { lastRecv: Store['lastRecv'] }).lastRecv = async () => 5_000_000_000n;
    await log.close();
    log = new MessageLog(ahead, 60_000, 1_000_000, quiet);
    log.append(pub, undefined); // the same millisecond before init
    await log.init();
    expect(log.append(pub, undefined)).toBe(5_000_000_001n);
  });
});
