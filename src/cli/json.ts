/**
 * JSON at the CLI edge. Arguments are parsed losslessly (integers beyond 2^53 become bigint),
 * output keeps every digit of a bigint and writes byte strings as base64.
 */
import { parse, stringify } from 'lossless-json';
import { dataFrameColumns, isDataFrame } from '../dataframe/index.js';
import { CliError, EXIT } from './options.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const big = BigInt(text);
    return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big;
  }
  return Number.parseFloat(text);
}

/** Parse JSON text losslessly. @throws SyntaxError for text that is not JSON. */
export function parseJson(text: string): unknown {
  return parse(text, null, parseNumber);
}

/** Text that starts like a JSON value other than a bare word: `{`, `[`, `"`, a digit, `-`. */
const LOOKS_LIKE_JSON = /^\s*[[{"\d-]/;

/**
 * One command-line argument: its JSON value; a bare word (`hello`) is that text. Text that
 * starts like JSON but is not (`{"a":1`, `[1,2`, `12abc`) is refused rather than sent as a
 * string by accident; with `asText` every argument is taken as a string, as is.
 * @throws CliError (exit 1) for malformed JSON
 */
export function parseArg(text: string, asText = false): unknown {
  if (asText) return text;
  try {
    return parseJson(text);
  } catch (err) {
    if (LOOKS_LIKE_JSON.test(text)) {
      throw new CliError(`argument '${text}' is not valid JSON (${(err as Error).message}); use --text to send arguments as strings`,
        EXIT.usage);
    }
    return text;
  }
}

/** The positional arguments of `pub`/`rpc`: each parsed by {@link parseArg}; a lone `-` reads a JSON array from stdin. */
export async function readArgs(args: readonly string[], stdin: AsyncIterable<string | Uint8Array>, asText = false): Promise<unknown[]> {
  if (!args.includes('-') || asText) return args.map((a) => parseArg(a, asText));
  if (args.length !== 1) throw new CliError("'-' (args from stdin) cannot be combined with other args", EXIT.usage);
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  text += decoder.decode();
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    throw new CliError(`stdin is not JSON: ${(err as Error).message}`, EXIT.usage);
  }
  if (!Array.isArray(value)) throw new CliError('stdin must hold one JSON array of args', EXIT.usage);
  return value;
}

/**
 * One line of JSON; bigints as raw digits, byte strings as base64, `undefined` as `null`, a polars
 * DataFrame (e.g. a `query_<t>` result) as an array of row objects.
 */
export function toJson(value: unknown): string {
  return stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return base64(v);
    if (isDataFrame(v)) return dataFrameRows(v);
    return v;
  }) ?? 'null';
}

/** Rows of a DataFrame with exact Int64 and datetime values (polars' own toRecords rounds them). */
function dataFrameRows(df: Parameters<typeof dataFrameColumns>[0]): Record<string, unknown>[] {
  const columns = [...dataFrameColumns(df)];
  const height = columns[0]?.[1].length ?? 0;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < height; i++) rows.push(Object.fromEntries(columns.map(([name, values]) => [name, values[i]])));
  return rows;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
