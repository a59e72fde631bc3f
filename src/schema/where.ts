/**
 * A safe `where` for the per-table RPCs. The spec (§8.4) passes raw SQL; here the condition is
 * parsed against a small grammar and re-emitted from the parse tree, so only the table's own
 * columns, literals and whitelisted functions can reach DuckDB.
 */
import { whereToSql, type WhereNode } from './where-ast.js';
import { tokenize } from './where-lexer.js';
import { WhereParser } from './where-parser.js';

export type { WhereNode } from './where-ast.js';

export { WHERE_FUNCTIONS } from './where-parser.js';

/**
 * Validate a `where` condition of `query_<t>` / `delete_<t>` and return it as safe SQL.
 *
 * The condition is parsed, never pasted: the SQL that runs is re-emitted from the parse tree
 * (columns quoted, strings re-escaped, every operation parenthesised). Allowed grammar
 * (keywords and function names are case-insensitive):
 *
 * ```text
 * condition  := or
 * or         := and { OR and }
 * and        := not { AND not }
 * not        := NOT not | predicate
 * predicate  := sum [ cmp sum
 *                   | IS [NOT] (NULL | TRUE | FALSE)
 *                   | [NOT] IN '(' sum { ',' sum } ')'
 *                   | [NOT] BETWEEN sum AND sum
 *                   | [NOT] (LIKE | ILIKE) sum ]
 * cmp        := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 * sum        := product { ('+' | '-' | '||') product }
 * product    := unary { ('*' | '/' | '%') unary }
 * unary      := ('-' | '+') unary | primary
 * primary    := number | 'string' | NULL | TRUE | FALSE
 *             | column                          -- a column of this table, unquoted
 *             | function '(' [ or { ',' or } ] ')'
 *             | CAST '(' or AS type ')'         -- a schema column type (INTEGER, TIMESTAMP, …)
 *             | (DATE | TIMESTAMP | INTERVAL) 'string'
 *             | '(' or ')'
 * function   := abs ceil floor round sign sqrt ln log exp power pow mod least greatest
 *               coalesce nullif isnan isinf lower upper length trim ltrim rtrim substr
 *               substring replace concat starts_with ends_with contains strpos left right
 *               regexp_matches date_trunc date_part year month day hour minute second
 *               epoch epoch_ms epoch_us epoch_ns to_timestamp make_timestamp strftime
 *               strptime now
 * ```
 *
 * Refused: `;`, comments (`--`, `/*`), subqueries (`SELECT`, `WITH`, `EXISTS`), any other
 * identifier (other tables, `table.column`, quoted identifiers), `::` casts, parameters
 * (`$1`, `?`), other functions, and conditions over 4096 characters or nested deeper than 64.
 *
 * @example
 * ```ts
 * import { compileWhere } from 'rembus/broker';
 * compileWhere("loc = 'belluno' AND value > 20", ['sensor', 'loc', 'value']);
 * // → `(("loc" = 'belluno') AND ("value" > 20))`
 * ```
 * @param where The condition text.
 * @param columns The table's column names (matched case-insensitively).
 * @returns The condition as SQL to put after `WHERE`.
 * @throws WhereClauseError naming the character offset and what is wrong.
 */
export function compileWhere(where: string, columns: readonly string[]): string {
  return whereToSql(parseWhere(where, columns));
}

/**
 * The parse tree of a `where` condition (the grammar of {@link compileWhere}); its `column`
 * nodes carry the table's spelling of the name.
 * @throws WhereClauseError naming the character offset and what is wrong.
 */
export function parseWhere(where: string, columns: readonly string[]): WhereNode {
  return new WhereParser(tokenize(where), new Map(columns.map((c) => [c.toLowerCase(), c]))).condition();
}
