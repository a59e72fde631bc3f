/**
 * JSON-RPC ids outside uint64 over a real socket (spec §2.4, §2.8; issue 13 item 10): the broker
 * answers a JSON-RPC error with id null instead of a reply under a wrapped id, and the link keeps
 * serving well-formed requests.
 */
import { describe, expect, it } from 'vitest';
import { useScope } from './helpers.js';

const scope = useScope();

describe('JSON-RPC text frames with ids outside uint64', () => {
  it('answer 2^64+1, -1 and 2^64 with an Invalid Request error (id null), never under a wrapped id', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    for (const id of ['18446744073709551617', '-1', '18446744073709551616', '"18446744073709551617"']) {
      raw.sendText(`{"jsonrpc":"2.0","id":${id},"method":"rid","params":[]}`);
      const reply = await raw.nextText();
      expect(JSON.parse(reply)).toMatchObject({ jsonrpc: '2.0', id: null,
        error: { code: -32600, message: 'Invalid Request', sts: 10 } });
      expect(reply).not.toMatch(/"id":\s*1\b|"result"/);
    }
    // The largest id is answered, digit for digit, and so are ordinary requests.
    raw.sendText('{"jsonrpc":"2.0","id":18446744073709551615,"method":"rid","params":[]}');
    expect(await raw.nextText()).toMatch(/^\{"jsonrpc":"2.0","id":18446744073709551615,"result":\{.*"data":"broker"/);
    // A QoS1 publish with a wrapped id is neither acknowledged nor delivered: it is refused too.
    raw.sendText('{"jsonrpc":"2.0","id":18446744073709551617,"method":"t","params":{"type":16,"data":[1]}}');
    expect(JSON.parse(await raw.nextText())).toMatchObject({ id: null, error: { code: -32600 } });
    raw.sendText('{"jsonrpc":"2.0","id":7,"method":"rid","params":[]}');
    expect(JSON.parse(await raw.nextText())).toMatchObject({ id: 7, result: { sts: 0, data: 'broker' } });
    expect(raw.unread).toEqual([]);
  });
});
