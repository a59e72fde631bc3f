/**
 * Rewrites indefinite-length CBOR byte and text strings as definite ones (spec §2.1: decoders
 * must accept them; cbor-x does not). Pure; only used on the rare frame cbor-x refused.
 */

/**
 * `src` with every indefinite-length byte/text string joined into one definite string, or
 * undefined when it holds none. Everything else is copied unchanged.
 * @throws Error for malformed CBOR.
 */
export function definiteStrings(src: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let pos = 0;
  let copied = 0; // src[copied, pos) is not yet in parts

  const head = (): { major: number; info: number; arg: number } => {
    if (pos >= src.length) throw new Error('unexpected end of CBOR data');
    const byte = src[pos++]!;
    const major = byte >> 5;
    const info = byte & 0x1f;
    if (info < 24 || info === 31) return { major, info, arg: info };
    if (info > 27) throw new Error(`invalid CBOR head 0x${byte.toString(16)}`);
    const size = 1 << (info - 24);
    if (pos + size > src.length) throw new Error('unexpected end of CBOR data');
    let arg = 0;
    for (let i = 0; i < size; i++) arg = arg * 256 + src[pos++]!;
    return { major, info, arg };
  };

  const item = (): void => {
    const start = pos;
    const { major, info, arg } = head();
    if (info === 31) {
      if (major === 2 || major === 3) return joinChunks(start, major);
      if (major !== 4 && major !== 5) throw new Error(`invalid indefinite-length major type ${major}`);
      while (src[pos] !== 0xff) {
        item();
        if (major === 5) item();
      }
      pos++;
      return;
    }
    if (major === 2 || major === 3) {
      pos += arg;
      if (pos > src.length) throw new Error('unexpected end of CBOR data');
    } else if (major === 4 || major === 5) {
      for (let i = 0; i < arg * (major === 5 ? 2 : 1); i++) item();
    } else if (major === 6) {
      item();
    }
  };

  const joinChunks = (start: number, major: number): void => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    while (src[pos] !== 0xff) {
      const chunk = head();
      if (chunk.major !== major || chunk.info === 31) throw new Error('invalid chunk in an indefinite-length string');
      if (pos + chunk.arg > src.length) throw new Error('unexpected end of CBOR data');
      chunks.push(src.subarray(pos, pos + chunk.arg));
      pos += chunk.arg;
      length += chunk.arg;
    }
    pos++;
    parts.push(src.subarray(copied, start), definiteHead(major, length), ...chunks);
    copied = pos;
  };

  item();
  if (parts.length === 0) return undefined;
  parts.push(src.subarray(copied));
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function definiteHead(major: number, length: number): Uint8Array {
  const type = major << 5;
  if (length < 24) return Uint8Array.of(type | length);
  if (length < 0x100) return Uint8Array.of(type | 24, length);
  if (length < 0x10000) return Uint8Array.of(type | 25, length >> 8, length & 0xff);
  const out = Uint8Array.of(type | 26, 0, 0, 0, 0);
  new DataView(out.buffer).setUint32(1, length);
  return out;
}
