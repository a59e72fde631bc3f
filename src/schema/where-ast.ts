/**
 * The parse tree of a `where` condition (see `compileWhere`) and its SQL form. One tree, two
 * readers: DuckDB gets the SQL re-emitted from it (`whereToSql`), live queries evaluate it on
 * new rows in JS (where-eval.ts), so both read exactly the same accepted condition.
 */

/** A node of the parse tree; `at` is the character offset it started at. */
export type WhereNode =
  | { readonly kind: 'num'; readonly text: string; readonly at: number }
  | { readonly kind: 'str'; readonly value: string; readonly at: number }
  | { readonly kind: 'const'; readonly value: 'NULL' | 'TRUE' | 'FALSE'; readonly at: number }
  | { readonly kind: 'typed'; readonly type: 'DATE' | 'TIMESTAMP' | 'INTERVAL'; readonly value: string; readonly at: number }
  /** `name` is the column's spelling in the table (not the condition's). */
  | { readonly kind: 'column'; readonly name: string; readonly at: number }
  | { readonly kind: 'logic'; readonly op: 'AND' | 'OR'; readonly left: WhereNode; readonly right: WhereNode; readonly at: number }
  | { readonly kind: 'not'; readonly operand: WhereNode; readonly at: number }
  /** Comparison (`==` is read as `=`), arithmetic and `||`. */
  | { readonly kind: 'binary'; readonly op: string; readonly left: WhereNode; readonly right: WhereNode; readonly at: number }
  | { readonly kind: 'unary'; readonly op: '-' | '+'; readonly operand: WhereNode; readonly at: number }
  | { readonly kind: 'is'; readonly operand: WhereNode; readonly not: boolean; readonly what: 'NULL' | 'TRUE' | 'FALSE'; readonly at: number }
  | { readonly kind: 'in'; readonly operand: WhereNode; readonly not: boolean; readonly items: readonly WhereNode[]; readonly at: number }
  | { readonly kind: 'between'; readonly operand: WhereNode; readonly not: boolean; readonly lo: WhereNode; readonly hi: WhereNode; readonly at: number }
  | { readonly kind: 'like'; readonly operand: WhereNode; readonly not: boolean; readonly op: 'LIKE' | 'ILIKE'; readonly pattern: WhereNode; readonly at: number }
  /** `name` lower-cased, one of `WHERE_FUNCTIONS`. */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly WhereNode[]; readonly at: number }
  /** `type` canonical (a schema column type). */
  | { readonly kind: 'cast'; readonly value: WhereNode; readonly type: string; readonly at: number };

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The SQL of a parse tree: columns quoted, strings re-escaped, every operation parenthesised.
 * @param node A tree `parseWhere` returned.
 */
export function whereToSql(node: WhereNode): string {
  switch (node.kind) {
    case 'num': return node.text;
    case 'str': return quote(node.value);
    case 'const': return node.value;
    case 'typed': return `${node.type} ${quote(node.value)}`;
    case 'column': return `"${node.name.replace(/"/g, '""')}"`;
    case 'logic': return `(${whereToSql(node.left)} ${node.op} ${whereToSql(node.right)})`;
    case 'not': return `(NOT ${whereToSql(node.operand)})`;
    case 'binary': return `(${whereToSql(node.left)} ${node.op} ${whereToSql(node.right)})`;
    case 'unary': return `(${node.op}${whereToSql(node.operand)})`;
    case 'is': return `(${whereToSql(node.operand)} IS ${node.not ? 'NOT ' : ''}${node.what})`;
    case 'in': return `(${whereToSql(node.operand)} ${node.not ? 'NOT ' : ''}IN (${node.items.map(whereToSql).join(', ')}))`;
    case 'between':
      return `(${whereToSql(node.operand)} ${node.not ? 'NOT ' : ''}BETWEEN ${whereToSql(node.lo)} AND ${whereToSql(node.hi)})`;
    case 'like': return `(${whereToSql(node.operand)} ${node.not ? 'NOT ' : ''}${node.op} ${whereToSql(node.pattern)})`;
    case 'call': return `${node.name}(${node.args.map(whereToSql).join(', ')})`;
    case 'cast': return `CAST(${whereToSql(node.value)} AS ${node.type})`;
  }
}
