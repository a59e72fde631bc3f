/**
 * The recursive-descent parser behind `compileWhere`: each rule returns the parse tree of what
 * it accepted (where-ast.ts), from which the SQL is re-emitted, so text outside the grammar
 * never reaches DuckDB.
 */
import { columnType } from './column-types.js';
import { WhereClauseError } from './errors.js';
import type { WhereNode } from './where-ast.js';
import type { Token } from './where-lexer.js';

/** Scalar functions a condition may call (case-insensitive). */
export const WHERE_FUNCTIONS: ReadonlySet<string> = new Set([
  'abs', 'ceil', 'floor', 'round', 'sign', 'sqrt', 'ln', 'log', 'exp', 'power', 'pow', 'mod', 'least',
  'greatest', 'coalesce', 'nullif', 'isnan', 'isinf', 'lower', 'upper', 'length', 'trim', 'ltrim', 'rtrim',
  'substr', 'substring', 'replace', 'concat', 'starts_with', 'ends_with', 'contains', 'strpos', 'left',
  'right', 'regexp_matches', 'date_trunc', 'date_part', 'year', 'month', 'day', 'hour', 'minute', 'second',
  'epoch', 'epoch_ms', 'epoch_us', 'epoch_ns', 'to_timestamp', 'make_timestamp', 'strftime', 'strptime', 'now',
]);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'LIKE', 'ILIKE', 'IS', 'NULL', 'TRUE', 'FALSE', 'CAST', 'AS', 'ESCAPE']);
const STATEMENT_WORDS = new Set(['SELECT', 'WITH', 'FROM', 'UNION', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'CREATE',
  'ALTER', 'ATTACH', 'COPY', 'PRAGMA', 'CALL', 'EXISTS']);
const COMPARE = new Set(['=', '==', '!=', '<>', '<', '<=', '>', '>=']);
const TYPED_LITERALS = new Set(['DATE', 'TIMESTAMP', 'INTERVAL']);
/** Deepest nesting accepted (parentheses, NOT, unary minus): keeps recursion bounded. */
const MAX_DEPTH = 64;

/** Parses one condition over `columns` (lower-cased name → the table's spelling). */
export class WhereParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[], private readonly columns: ReadonlyMap<string, string>) {}

  private get tok(): Token { return this.tokens[this.pos]!; }
  private upper(): string { return this.tok.kind === 'word' ? this.tok.text.toUpperCase() : ''; }
  private isOp(op: string): boolean { return this.tok.kind === 'op' && this.tok.text === op; }
  private isWord(word: string): boolean { return this.upper() === word; }
  private fail(reason: string, at = this.tok.at): never { throw new WhereClauseError(reason, at); }
  private expectOp(op: string): void {
    if (!this.isOp(op)) this.fail(`expected '${op}'${this.tok.kind === 'end' ? ' before the end' : `, got '${this.tok.text}'`}`);
    this.pos++;
  }
  private take(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.pos++;
    return true;
  }
  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH}`);
    try { return parse(); } finally { this.depth--; }
  }

  condition(): WhereNode {
    const node = this.or();
    if (this.tok.kind !== 'end') this.fail(`unexpected '${this.tok.text}'`);
    return node;
  }
  private or(): WhereNode {
    let node = this.and();
    for (let at = this.tok.at; this.take('OR'); at = this.tok.at) node = { kind: 'logic', op: 'OR', left: node, right: this.and(), at };
    return node;
  }
  private and(): WhereNode {
    let node = this.not();
    for (let at = this.tok.at; this.take('AND'); at = this.tok.at) node = { kind: 'logic', op: 'AND', left: node, right: this.not(), at };
    return node;
  }
  private not(): WhereNode {
    const at = this.tok.at;
    return this.take('NOT') ? this.nested(() => ({ kind: 'not', operand: this.not(), at })) : this.predicate();
  }
  private predicate(): WhereNode {
    const left = this.additive();
    const at = this.tok.at;
    if (this.tok.kind === 'op' && COMPARE.has(this.tok.text)) {
      const op = this.tok.text === '==' ? '=' : this.tok.text;
      this.pos++;
      return { kind: 'binary', op, left, right: this.additive(), at };
    }
    if (this.take('IS')) {
      const not = this.take('NOT');
      const what = this.upper();
      if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') this.fail('expected NULL, TRUE or FALSE after IS');
      this.pos++;
      return { kind: 'is', operand: left, not, what, at };
    }
    const not = this.take('NOT');
    if (this.take('IN')) return { kind: 'in', operand: left, not, items: this.list(), at };
    if (this.take('BETWEEN')) {
      const lo = this.additive();
      if (!this.take('AND')) this.fail('expected AND in BETWEEN');
      return { kind: 'between', operand: left, not, lo, hi: this.additive(), at };
    }
    const like = this.upper();
    if (like === 'LIKE' || like === 'ILIKE') {
      this.pos++;
      return { kind: 'like', operand: left, not, op: like, pattern: this.additive(), at };
    }
    if (not) this.fail('expected IN, BETWEEN, LIKE or ILIKE after NOT');
    return left;
  }
  private list(): WhereNode[] {
    this.expectOp('(');
    if (STATEMENT_WORDS.has(this.upper())) this.fail('subqueries are not allowed');
    const items = [this.additive()];
    while (this.isOp(',')) { this.pos++; items.push(this.additive()); }
    this.expectOp(')');
    return items;
  }
  private additive(): WhereNode {
    let node = this.multiplicative();
    while (this.isOp('+') || this.isOp('-') || this.isOp('||')) {
      const { text: op, at } = this.tok;
      this.pos++;
      node = { kind: 'binary', op, left: node, right: this.multiplicative(), at };
    }
    return node;
  }
  private multiplicative(): WhereNode {
    let node = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const { text: op, at } = this.tok;
      this.pos++;
      node = { kind: 'binary', op, left: node, right: this.unary(), at };
    }
    return node;
  }
  private unary(): WhereNode {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.tok.text as '-' | '+', at = this.tok.at;
      this.pos++;
      return this.nested(() => ({ kind: 'unary', op, operand: this.unary(), at }));
    }
    return this.primary();
  }
  private primary(): WhereNode {
    const tok = this.tok;
    if (tok.kind === 'num') { this.pos++; return { kind: 'num', text: tok.text, at: tok.at }; }
    if (tok.kind === 'str') { this.pos++; return { kind: 'str', value: tok.text, at: tok.at }; }
    if (this.isOp('(')) {
      this.pos++;
      if (STATEMENT_WORDS.has(this.upper())) this.fail('subqueries are not allowed');
      const inner = this.nested(() => this.or());
      this.expectOp(')');
      return inner;
    }
    if (tok.kind !== 'word') this.fail(tok.kind === 'end' ? 'unexpected end of condition' : `unexpected '${tok.text}'`);
    return this.word(tok);
  }
  private word(tok: Token): WhereNode {
    const upper = tok.text.toUpperCase();
    const next = this.tokens[this.pos + 1];
    if (upper === 'NULL' || upper === 'TRUE' || upper === 'FALSE') { this.pos++; return { kind: 'const', value: upper, at: tok.at }; }
    if (TYPED_LITERALS.has(upper) && next?.kind === 'str') {
      this.pos += 2;
      return { kind: 'typed', type: upper as 'DATE' | 'TIMESTAMP' | 'INTERVAL', value: next.text, at: tok.at };
    }
    if (upper === 'CAST') return this.cast();
    if (STATEMENT_WORDS.has(upper)) this.fail(upper === 'SELECT' || upper === 'WITH' ? 'subqueries are not allowed' : `'${tok.text}' is not allowed`);
    if (next?.kind === 'op' && next.text === '(') return this.call(tok);
    if (KEYWORDS.has(upper)) this.fail(`unexpected ${upper}`);
    const column = this.columns.get(tok.text.toLowerCase());
    if (column === undefined) this.fail(`unknown column '${tok.text}'`);
    this.pos++;
    return { kind: 'column', name: column, at: tok.at };
  }
  private call(tok: Token): WhereNode {
    const name = tok.text.toLowerCase();
    if (!WHERE_FUNCTIONS.has(name)) this.fail(`function '${tok.text}' is not allowed`);
    this.pos += 2;
    const args: WhereNode[] = [];
    if (!this.isOp(')')) {
      if (STATEMENT_WORDS.has(this.upper())) this.fail('subqueries are not allowed');
      args.push(this.nested(() => this.or()));
      while (this.isOp(',')) { this.pos++; args.push(this.nested(() => this.or())); }
    }
    this.expectOp(')');
    return { kind: 'call', name, args, at: tok.at };
  }
  private cast(): WhereNode {
    const at = this.tok.at;
    this.pos++;
    this.expectOp('(');
    const value = this.nested(() => this.or());
    if (!this.take('AS')) this.fail('expected AS in CAST');
    const start = this.tok;
    let spelled = '';
    while (this.tok.kind === 'word') { spelled += `${spelled === '' ? '' : ' '}${this.tok.text}`; this.pos++; }
    const type = columnType(spelled);
    if (type === undefined) this.fail(`unknown type '${spelled}' in CAST`, start.at);
    this.expectOp(')');
    return { kind: 'cast', value, type, at };
  }
}
