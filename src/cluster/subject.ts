/**
 * Rembus topics ↔ NATS subjects (pure). A topic's `/` chunks become subject tokens under a
 * prefix (`plant/7/telemetry` → `<prefix>.plant.7.telemetry`). What a NATS token cannot carry
 * is percent-escaped: `.`, `*`, `>`, `%`, whitespace and control characters (`a.b` → `a%2Eb`);
 * an empty chunk becomes `%`, which no escape produces. Every other character, UTF-8 included,
 * passes as is, so the usual topics cost one `replaceAll`.
 */

/** Characters a NATS subject token cannot hold (or `%`, the escape itself). */
const UNSAFE = /[.*>%\s\u0000-\u001f\u007f]/u;
const UNSAFE_ALL = /[.*>%\s\u0000-\u001f\u007f]/gu;

function escapeChunk(chunk: string): string {
  if (chunk === '') return '%';
  if (!UNSAFE.test(chunk)) return chunk;
  return chunk.replace(UNSAFE_ALL, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
  });
}

function unescapeToken(token: string): string {
  if (token === '%') return '';
  if (!token.includes('%')) return token;
  return token.replace(/%u([0-9a-f]{4})|%([0-9A-F]{2})/gu, (_, u: string | undefined, b: string | undefined) =>
    String.fromCodePoint(Number.parseInt(u ?? b!, 16)));
}

/**
 * The subject carrying `topic` under `prefix`.
 * @example topicToSubject('rembus.c.m0', 'plant/7.1') === 'rembus.c.m0.plant.7%2E1'
 */
export function topicToSubject(prefix: string, topic: string): string {
  return `${prefix}.${topic.split('/').map(escapeChunk).join('.')}`;
}

/** The topic of a subject made by {@link topicToSubject} with the same prefix; undefined for another prefix. */
export function subjectToTopic(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  return subject.slice(prefix.length + 1).split('.').map(unescapeToken).join('/');
}

/** Is `name` usable as one NATS token (cluster names, broker ids, stream and bucket names)? */
export function isToken(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/u.test(name);
}

/**
 * The NATS subject that carries every topic `pattern` matches (a superset: the broker matches
 * exactly when it routes). A chunk `*` is a NATS `*`; from the first chunk holding `*` with
 * anything else (`**`, `temp*`) the rest is `>`; the catch-all `*` and `**` are `<prefix>.>`.
 * @example patternToSubject('rembus.c.m0', 'plant/*\/t') === 'rembus.c.m0.plant.*.t'
 */
export function patternToSubject(prefix: string, pattern: string): string {
  if (!pattern.includes('*')) return topicToSubject(prefix, pattern);
  const tokens: string[] = [];
  for (const chunk of pattern.split('/')) {
    if (chunk === '*') tokens.push('*');
    else if (!chunk.includes('*')) tokens.push(escapeChunk(chunk));
    else {
      tokens.push('>');
      break;
    }
  }
  if (pattern === '*') return `${prefix}.>`;
  return `${prefix}.${tokens.join('.')}`;
}

/** Does the NATS subject `filter` (with `*` and `>` tokens) match the subject `subject`? */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
