/**
 * Tokens of a `where` condition (see `compileWhere`). Statement separators, comments, quoted
 * identifiers, qualified names and `::` casts are refused here, before any parsing.
 */
import { WhereClauseError } from './errors.js';

/** One token: `kind` and its source text, at character offset `at`. */
export interface Token {
  readonly kind: 'num' | 'str' | 'word' | 'op' | 'end';
  /** Source text; for `str` the unescaped content. */
  readonly text: string;
  readonly at: number;
}

/** Longest conditions accepted, in characters. */
export const MAX_WHERE_LENGTH = 4096;

const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPS = ['<=', '>=', '<>', '!=', '==', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ','];

function refuse(ch: string, next: string, at: number): never {
  if (ch === ';') throw new WhereClauseError("';' is not allowed: one condition, no statements", at);
  if ((ch === '-' && next === '-') || (ch === '/' && next === '*')) throw new WhereClauseError('comments are not allowed', at);
  if (ch === '.') throw new WhereClauseError('qualified names (table.column) are not allowed', at);
  if (ch === ':' && next === ':') throw new WhereClauseError("'::' casts are not allowed: use CAST(x AS type)", at);
  if (ch === '"' || ch === '`' || ch === '[') throw new WhereClauseError('quoted identifiers are not allowed', at);
  if (ch === '$' || ch === '?') throw new WhereClauseError('parameters are not allowed', at);
  throw new WhereClauseError(`unexpected character ${JSON.stringify(ch)}`, at);
}

function readString(src: string, start: number): [Token, number] {
  let i = start + 1, text = '';
  for (;;) {
    const q = src.indexOf("'", i);
    if (q === -1) throw new WhereClauseError('unterminated string literal', start);
    text += src.slice(i, q);
    if (src[q + 1] !== "'") return [{ kind: 'str', text, at: start }, q + 1];
    text += "'";
    i = q + 2;
  }
}

/**
 * Split a condition into tokens.
 * @throws WhereClauseError for a character outside the grammar, a comment, `;`, or text over
 * {@link MAX_WHERE_LENGTH} characters.
 */
export function tokenize(src: string): Token[] {
  if (src.length > MAX_WHERE_LENGTH) throw new WhereClauseError(`longer than ${MAX_WHERE_LENGTH} characters`, MAX_WHERE_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === "'") {
      const [token, next] = readString(src, i);
      tokens.push(token);
      i = next;
      continue;
    }
    const next = src[i + 1] ?? '';
    if ((ch === '-' && next === '-') || (ch === '/' && next === '*')) refuse(ch, next, i);
    NUMBER.lastIndex = i;
    WORD.lastIndex = i;
    const num = NUMBER.exec(src);
    const word = num === null ? WORD.exec(src) : null;
    const found = num ?? word;
    if (found !== null) {
      // `1abc`, `1.2.3`: a number must not run into a word or another dot.
      const after = src[i + found[0].length] ?? '';
      if (num !== null && /[A-Za-z_.]/.test(after)) throw new WhereClauseError(`malformed number near ${JSON.stringify(found[0] + after)}`, i);
      tokens.push({ kind: num === null ? 'word' : 'num', text: found[0], at: i });
      i += found[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) refuse(ch, next, i);
    tokens.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', text: '', at: src.length });
  return tokens;
}
