/**
 * A `where` parse tree (where-ast.ts) as a JS predicate over rows in their canonical form
 * (column-types.ts `coerce`): what a live query runs on each new row. SQL semantics: three-valued
 * logic (null is "unknown", and only true matches), numbers and bigints compared by value,
 * strings by code unit, instants by ns. Constructs whose DuckDB result JS cannot reproduce
 * exactly are refused when compiling, naming the construct (time zones, regex dialect, calendar
 * functions, INTERVAL, integer casts).
 */
import { EpochNs } from '../dataframe/columns.js';
import { parseInstant } from './column-types.js';
import type { WhereNode } from './where-ast.js';

/** A value during evaluation; null is SQL NULL. */
type V = unknown;
type Eval = (row: readonly unknown[]) => V;

/** Thrown by {@link compileLivePredicate} for a construct it does not evaluate. */
export class UnsupportedConstruct extends Error {
  constructor(readonly construct: string) {
    super(construct);
    this.name = 'UnsupportedConstruct';
  }
}

const NUMERIC_FNS: Record<string, (x: number) => number> = {
  abs: Math.abs, ceil: Math.ceil, floor: Math.floor, sign: Math.sign, sqrt: Math.sqrt, ln: Math.log,
  log: Math.log10, exp: Math.exp,
};

const isNum = (v: V): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
const num = (v: V): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : (v as number));

/** Order of two non-null values (DuckDB casts a string literal to the other side's type). */
function compare(a: V, b: V): number {
  if (a instanceof EpochNs || b instanceof EpochNs) {
    const x = instant(a), y = instant(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (isNum(a) || isNum(b)) {
    const x = isNum(a) ? a : num(a), y = isNum(b) ? b : num(b);
    // DuckDB orders NaN above every number and equal to itself.
    const xNaN = Number.isNaN(x), yNaN = Number.isNaN(y);
    if (xNaN || yNaN) return Number(xNaN) - Number(yNaN);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  const x = String(a), y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function instant(v: V): bigint {
  if (v instanceof EpochNs) return v.ns;
  const parsed = typeof v === 'string' ? parseInstant(v) : undefined;
  if (parsed === undefined) throw new TypeError(`not an instant: ${String(v)}`);
  return parsed.ns;
}

function arithmetic(op: string, a: V, b: V): V {
  if (op === '||') return String(a) + String(b);
  const integral = (v: V): boolean => typeof v === 'bigint' || Number.isInteger(v);
  if (op !== '/' && (typeof a === 'bigint' || typeof b === 'bigint') && integral(a) && integral(b)) {
    // 64-bit integers stay exact (a number literal joins them as a bigint).
    const x = BigInt(a as number | bigint), y = BigInt(b as number | bigint);
    if (op === '%' && y === 0n) return null; // DuckDB: integer modulo by zero is NULL
    return op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x % y;
  }
  const x = num(a), y = num(b);
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y; // DuckDB: `/` is float division, IEEE by zero (Infinity, NaN)
    default: return y === 0 && integral(a) && integral(b) ? null : x % y;
  }
}

const not3 = (v: V): V => (v === null ? null : !v);

function likeRegex(pattern: string, ci: boolean): RegExp {
  let src = '';
  for (const ch of pattern) src += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${src}$`, ci ? 'isu' : 'su');
}

/** Functions evaluated here; every other whitelisted one is refused for live queries. */
function call(name: string, args: Eval[]): Eval {
  const unary = NUMERIC_FNS[name];
  if (unary !== undefined && args.length === 1) {
    const [a] = args as [Eval];
    return (r) => { const v = a(r); return v === null ? null : unary(num(v)); };
  }
  const strict = (f: (...v: V[]) => V): Eval => (r) => {
    const vs = args.map((a) => a(r));
    return vs.includes(null) ? null : f(...vs);
  };
  switch (name) {
    case 'round': return strict((x, n = 0) => { const p = 10 ** num(n); return Math.sign(num(x)) * Math.round(Math.abs(num(x)) * p) / p; });
    case 'power': case 'pow': return strict((x, y) => num(x) ** num(y));
    case 'mod': return strict((x, y) => arithmetic('%', x, y));
    case 'isnan': return strict((x) => Number.isNaN(num(x)));
    case 'isinf': return strict((x) => !Number.isFinite(num(x)) && !Number.isNaN(num(x)));
    case 'least': case 'greatest': return (r) => {
      const vs = args.map((a) => a(r)).filter((v) => v !== null);
      if (vs.length === 0) return null;
      return vs.reduce((m, v) => ((compare(v, m) < 0) === (name === 'least') ? v : m));
    };
    case 'coalesce': return (r) => { for (const a of args) { const v = a(r); if (v !== null) return v; } return null; };
    case 'nullif': return strict((a, b) => (compare(a, b) === 0 ? null : a));
    case 'lower': return strict((s) => String(s).toLowerCase());
    case 'upper': return strict((s) => String(s).toUpperCase());
    case 'length': return strict((s) => [...String(s)].length);
    case 'trim': return strict((s) => String(s).trim());
    case 'ltrim': return strict((s) => String(s).trimStart());
    case 'rtrim': return strict((s) => String(s).trimEnd());
    case 'substr': case 'substring': return strict((s, start, len) => {
      const cps = [...String(s)];
      const from = Math.max(num(start) - 1, 0);
      return cps.slice(from, len === undefined ? undefined : Math.max(num(start) - 1 + num(len), 0)).join('');
    });
    case 'replace': return strict((s, a, b) => String(s).split(String(a)).join(String(b)));
    case 'concat': return (r) => args.map((a) => a(r)).filter((v) => v !== null).map(String).join('');
    case 'starts_with': return strict((s, p) => String(s).startsWith(String(p)));
    case 'ends_with': return strict((s, p) => String(s).endsWith(String(p)));
    case 'contains': return strict((s, p) => String(s).includes(String(p)));
    case 'strpos': return strict((s, p) => { const i = String(s).indexOf(String(p)); return i < 0 ? 0 : [...String(s).slice(0, i)].length + 1; });
    case 'left': return strict((s, n) => [...String(s)].slice(0, Math.max(num(n), 0)).join(''));
    case 'right': return strict((s, n) => (num(n) <= 0 ? '' : [...String(s)].slice(-num(n)).join('')));
    case 'epoch': return strict((t) => Number(instant(t)) / 1e9);
    case 'epoch_ms': return strict((t) => instant(t) / 1_000_000n);
    case 'epoch_us': return strict((t) => instant(t) / 1_000n);
    case 'epoch_ns': return strict((t) => instant(t));
    default: throw new UnsupportedConstruct(`function ${name}()`);
  }
}

function compile(node: WhereNode, index: ReadonlyMap<string, number>): Eval {
  const c = (n: WhereNode): Eval => compile(n, index);
  switch (node.kind) {
    case 'num': { const v = /^\d+$/.test(node.text) && !Number.isSafeInteger(Number(node.text)) ? BigInt(node.text) : Number(node.text); return () => v; }
    case 'str': { const v = node.value; return () => v; }
    case 'const': { const v = node.value === 'NULL' ? null : node.value === 'TRUE'; return () => v; }
    case 'typed': {
      if (node.type === 'INTERVAL') throw new UnsupportedConstruct('INTERVAL literals');
      const v = parseInstant(node.value);
      if (v === undefined) throw new UnsupportedConstruct(`${node.type} '${node.value}'`);
      return () => v;
    }
    case 'column': { const i = index.get(node.name)!; return (r) => r[i] ?? null; }
    case 'logic': {
      const a = c(node.left), b = c(node.right);
      return node.op === 'AND'
        ? (r) => { const x = a(r); if (x === false) return false; const y = b(r); return y === false ? false : x === null || y === null ? null : true; }
        : (r) => { const x = a(r); if (x === true) return true; const y = b(r); return y === true ? true : x === null || y === null ? null : false; };
    }
    case 'not': { const a = c(node.operand); return (r) => not3(a(r)); }
    case 'unary': { const a = c(node.operand); return node.op === '+' ? a : (r) => { const v = a(r); return v === null ? null : typeof v === 'bigint' ? -v : -num(v); }; }
    case 'binary': {
      const a = c(node.left), b = c(node.right), op = node.op;
      const cmp = ({ '=': (n: number) => n === 0, '!=': (n: number) => n !== 0, '<>': (n: number) => n !== 0,
        '<': (n: number) => n < 0, '<=': (n: number) => n <= 0, '>': (n: number) => n > 0, '>=': (n: number) => n >= 0 } as Record<string, (n: number) => boolean>)[op];
      return (r) => {
        const x = a(r), y = b(r);
        if (x === null || y === null) return null;
        return cmp !== undefined ? cmp(compare(x, y)) : arithmetic(op, x, y);
      };
    }
    case 'is': {
      const a = c(node.operand), want = node.what === 'NULL' ? null : node.what === 'TRUE';
      return (r) => (a(r) === want) !== node.not;
    }
    case 'in': {
      const a = c(node.operand), items = node.items.map(c);
      return (r) => {
        const x = a(r);
        if (x === null) return null;
        let unknown = false;
        for (const item of items) {
          const y = item(r);
          if (y === null) unknown = true;
          else if (compare(x, y) === 0) return !node.not;
        }
        return unknown ? null : node.not;
      };
    }
    case 'between': {
      const a = c(node.operand), lo = c(node.lo), hi = c(node.hi);
      return (r) => {
        const x = a(r), l = lo(r), h = hi(r);
        const ge = x === null || l === null ? null : compare(x, l) >= 0;
        const le = x === null || h === null ? null : compare(x, h) <= 0;
        const both = ge === false || le === false ? false : ge === null || le === null ? null : true;
        return node.not ? not3(both) : both;
      };
    }
    case 'like': {
      const a = c(node.operand), p = c(node.pattern), ci = node.op === 'ILIKE';
      const cache = new Map<string, RegExp>();
      return (r) => {
        const x = a(r), y = p(r);
        if (x === null || y === null) return null;
        const key = String(y);
        let re = cache.get(key);
        if (re === undefined) { if (cache.size > 64) cache.clear(); re = likeRegex(key, ci); cache.set(key, re); }
        return re.test(String(x)) !== node.not;
      };
    }
    case 'call': return call(node.name, node.args.map(c));
    case 'cast': {
      const a = c(node.value);
      if (node.type === 'VARCHAR') return (r) => { const v = a(r); return v === null ? null : String(v); };
      if (node.type === 'DOUBLE' || node.type === 'FLOAT') return (r) => { const v = a(r); return v === null ? null : num(v); };
      throw new UnsupportedConstruct(`CAST AS ${node.type}`);
    }
  }
}

/**
 * The predicate of a live query: true for a row `where` matches.
 * @param where The parse tree (`parseWhere`), or undefined for every row.
 * @param layout The table's column names in row order.
 * @throws UnsupportedConstruct naming what cannot be evaluated here.
 */
export function compileLivePredicate(where: WhereNode | undefined, layout: readonly string[]): (row: readonly unknown[]) => boolean {
  if (where === undefined) return () => true;
  const evaluate = compile(where, new Map(layout.map((name, i) => [name, i])));
  return (row) => {
    try {
      return evaluate(row) === true;
    } catch {
      return false; // a value the condition cannot take (DuckDB would fail the same cast): no match
    }
  };
}
