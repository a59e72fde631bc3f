/**
 * The recursive-descent parser behind `compileWhere`: each rule returns the SQL it accepted,
 * rebuilt from tokens, so text outside the grammar never reaches DuckDB.
 */
import { columnType } from './column-types.js';
import { WhereClauseError } from './errors.js';
import { tokenize, type Token } from './where-lexer.js';

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

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Parses one condition over `columns` (lower-cased name → SQL-escaped name). */
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

  condition(): string {
    const sql = this.or();
    if (this.tok.kind !== 'end') this.fail(`unexpected '${this.tok.text}'`);
    return sql;
  }
  private or(): string {
    let sql = this.and();
    while (this.take('OR')) sql = `(${sql} OR ${this.and()})`;
    return sql;
  }
  private and(): string {
    let sql = this.not();
    while (this.take('AND')) sql = `(${sql} AND ${this.not()})`;
    return sql;
  }
  private not(): string {
    return this.take('NOT') ? this.nested(() => `(NOT ${this.not()})`) : this.predicate();
  }
  private predicate(): string {
    const left = this.additive();
    if (this.tok.kind === 'op' && COMPARE.has(this.tok.text)) {
      const op = this.tok.text === '==' ? '=' : this.tok.text;
      this.pos++;
      return `(${left} ${op} ${this.additive()})`;
    }
    if (this.take('IS')) {
      const not = this.take('NOT') ? 'NOT ' : '';
      const what = this.upper();
      if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') this.fail('expected NULL, TRUE or FALSE after IS');
      this.pos++;
      return `(${left} IS ${not}${what})`;
    }
    const not = this.take('NOT') ? 'NOT ' : '';
    if (this.take('IN')) return `(${left} ${not}IN (${this.list()}))`;
    if (this.take('BETWEEN')) {
      const lo = this.additive();
      if (!this.take('AND')) this.fail('expected AND in BETWEEN');
      return `(${left} ${not}BETWEEN ${lo} AND ${this.additive()})`;
    }
    const like = this.upper();
    if (like === 'LIKE' || like === 'ILIKE') {
      this.pos++;
      return `(${left} ${not}${like} ${this.additive()})`;
    }
    if (not !== '') this.fail('expected IN, BETWEEN, LIKE or ILIKE after NOT');
    return left;
  }
  private list(): string {
    this.expectOp('(');
    if (STATEMENT_WORDS.has(this.upper())) this.fail('subqueries are not allowed');
    const items = [this.additive()];
    while (this.isOp(',')) { this.pos++; items.push(this.additive()); }
    this.expectOp(')');
    return items.join(', ');
  }
  private additive(): string {
    let sql = this.multiplicative();
    while (this.isOp('+') || this.isOp('-') || this.isOp('||')) {
      const op = this.tok.text;
      this.pos++;
      sql = `(${sql} ${op} ${this.multiplicative()})`;
    }
    return sql;
  }
  private multiplicative(): string {
    let sql = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.tok.text;
      this.pos++;
      sql = `(${sql} ${op} ${this.unary()})`;
    }
    return sql;
  }
  private unary(): string {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.tok.text;
      this.pos++;
      return this.nested(() => `(${op}${this.unary()})`);
    }
    return this.primary();
  }
  private primary(): string {
    const tok = this.tok;
    if (tok.kind === 'num') { this.pos++; return tok.text; }
    if (tok.kind === 'str') { this.pos++; return quote(tok.text); }
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
  private word(tok: Token): string {
    const upper = tok.text.toUpperCase();
    const next = this.tokens[this.pos + 1];
    if (upper === 'NULL' || upper === 'TRUE' || upper === 'FALSE') { this.pos++; return upper; }
    if (TYPED_LITERALS.has(upper) && next?.kind === 'str') { this.pos += 2; return `${upper} ${quote(next.text)}`; }
    if (upper === 'CAST') return this.cast();
    if (STATEMENT_WORDS.has(upper)) this.fail(upper === 'SELECT' || upper === 'WITH' ? 'subqueries are not allowed' : `'${tok.text}' is not allowed`);
    if (next?.kind === 'op' && next.text === '(') return this.call(tok);
    if (KEYWORDS.has(upper)) this.fail(`unexpected ${upper}`);
    const column = this.columns.get(tok.text.toLowerCase());
    if (column === undefined) this.fail(`unknown column '${tok.text}'`);
    this.pos++;
    return `"${column}"`;
  }
  private call(tok: Token): string {
    const name = tok.text.toLowerCase();
    if (!WHERE_FUNCTIONS.has(name)) this.fail(`function '${tok.text}' is not allowed`);
    this.pos += 2;
    const args: string[] = [];
    if (!this.isOp(')')) {
      if (STATEMENT_WORDS.has(this.upper())) this.fail('subqueries are not allowed');
      args.push(this.nested(() => this.or()));
      while (this.isOp(',')) { this.pos++; args.push(this.nested(() => this.or())); }
    }
    this.expectOp(')');
    return `${name}(${args.join(', ')})`;
  }
  private cast(): string {
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
    return `CAST(${value} AS ${type})`;
  }
}
