/**
 * Node (see platform.ts): WebSockets through `ws`, whatever the Node version, so TLS options
 * (`ca`) work and the socket writes stay batched per event-loop turn (ws-write-turn.ts); MQTT
 * through rembus/mqtt, loaded only for an `mqtt://` URL (mqtt.js is an optional peer).
 */
import { polarsFrames } from '../dataframe/polars-frames.js';
import { importOptional } from '../internal/optional.js';
import { dialTcp, isTcpUrl } from '../transport/tcp-dial.js';
import { dialWebSocket } from '../transport/ws-link.js';
import type { ComponentKey, ComponentOptions } from './types.js';
import type { Platform } from './platform.js';

export const platform: Platform = {
  // ws passes `ca` to tls.connect, which takes any byte view as well as a string. tcp:// and
  // tls:// (spec §1.4) load node:net / node:tls only when dialed.
  dial: (url, { connectTimeout, ca, pingInterval }) => isTcpUrl(url) ? dialTcp(url, { connectTimeout, ca })
    : dialWebSocket(url, { connectTimeout, pingInterval, wsOptions: ca === undefined ? {} : { ca: ca as string } }),
  mqtt: async (url: string, options: ComponentOptions) => {
    const { mqttComponent } = await importOptional('mqtt', 'an mqtt:// component', () => import('../mqtt/index.js'));
    return mqttComponent(url, {
      ...(options.requestTimeout === undefined ? {} : { requestTimeout: options.requestTimeout }),
      ...(options.connectTimeout === undefined ? {} : { connectTimeout: options.connectTimeout }),
      ...(options.offlineCapacity === undefined ? {} : { offlineCapacity: options.offlineCapacity }),
      ...(options.reconnect?.initialDelay === undefined ? {} : { reconnectPeriod: options.reconnect.initialDelay }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  },
  frames: () => polarsFrames,
  // node:crypto for PEM/DER text and KeyObjects (PKCS#1, SEC1, PKCS#8); WebCrypto for a CryptoKey.
  signer: async () => {
    const [node, web] = await Promise.all([import('../security/crypto.js'), import('./webcrypto-sign.js')]);
    const isCryptoKey = (key: ComponentKey): boolean => typeof key === 'object' && 'algorithm' in key;
    return {
      attestationFor: (challenge, cid, key) => isCryptoKey(key) ? web.attestationFor(challenge, cid, key)
        : node.attestationFor(challenge, cid, key as NodeKey),
      registrationKey: (key) => isCryptoKey(key) ? web.registrationKey(key) : node.registrationKey(key as NodeKey),
    };
  },
};

type NodeKey = import('../security/crypto.js').ComponentKey;
