import { invalidParameterValue } from './errors.ts';

/**
 * MLflow's search grammar: clauses `<entity>.<key> <comparator> <value>` joined by AND, e.g.
 * `metrics.acc > 0.9 and params.opt = 'adam' and tags.\`mlflow.user\` IN ('ada', 'bob')`.
 * The parser knows the syntax only; which entities, keys and comparators a search allows is its caller's call.
 */
export type FilterValue = string | number | Array<string | number>;
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface FilterClause {
  /** The prefix as written, lower-cased, without its dot; '' for a bare identifier such as `name`. */
  entity: string;
  key: string;
  comparator: Comparator;
  /** null for IS NULL and IS NOT NULL. */
  value: FilterValue | null;
}

export interface OrderClause {
  entity: string;
  key: string;
  ascending: boolean;
}

class Scanner {
  position = 0;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  skipSpace(): void {
    while (/\s/.test(this.text[this.position] ?? '')) this.position++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.position >= this.text.length;
  }

  /** Consumes the keyword (case-insensitive, whole word) if it comes next. */
  keyword(word: string): boolean {
    this.skipSpace();
    const next = this.text.slice(this.position, this.position + word.length);
    const after = this.text[this.position + word.length] ?? '';
    if (next.toUpperCase() !== word || /[\w.]/.test(after)) return false;
    this.position += word.length;
    return true;
  }

  symbol(symbols: string[]): string | undefined {
    this.skipSpace();
    const found = symbols.find((symbol) => this.text.startsWith(symbol, this.position));
    if (found) this.position += found.length;
    return found;
  }

  quoted(): string | undefined {
    const quote = this.text[this.position];
    if (quote !== "'" && quote !== '"' && quote !== '`') return undefined;
    let value = '';
    for (let index = this.position + 1; index < this.text.length; index++) {
      const char = this.text[index]!;
      if (char === '\\' && index + 1 < this.text.length) {
        value += this.text[++index];
      } else if (char === quote) {
        if (this.text[index + 1] === quote) {
          value += quote;
          index++;
        } else {
          this.position = index + 1;
          return value;
        }
      } else value += char;
    }
    throw this.error(`unterminated ${quote} quote`);
  }

  error(problem: string) {
    return invalidParameterValue(`Invalid search expression '${this.text}': ${problem} at position ${this.position}`);
  }
}

function identifier(scanner: Scanner): { entity: string; key: string } {
  scanner.skipSpace();
  const quotedBare = scanner.text[scanner.position] === '`' || scanner.text[scanner.position] === '"' ? scanner.quoted() : undefined;
  if (quotedBare !== undefined) return { entity: '', key: quotedBare };
  const word = /^[A-Za-z_][\w.]*/.exec(scanner.text.slice(scanner.position))?.[0];
  if (!word) throw scanner.error('expected an identifier such as metrics.acc, params.lr or tags.team');
  scanner.position += word.length;
  const dot = word.indexOf('.');
  if (dot < 0) return { entity: '', key: word };
  const entity = word.slice(0, dot).toLowerCase();
  let key = word.slice(dot + 1);
  if (key === '') {
    const quotedKey = scanner.quoted();
    if (quotedKey === undefined) throw scanner.error(`expected a key after "${entity}."`);
    key = quotedKey;
  }
  if (key === '') throw scanner.error('empty key');
  return { entity, key };
}

function comparator(scanner: Scanner): Comparator {
  const symbol = scanner.symbol(['!=', '<>', '<=', '>=', '=', '<', '>']);
  if (symbol) return symbol === '<>' ? '!=' : (symbol as Comparator);
  if (scanner.keyword('LIKE')) return 'LIKE';
  if (scanner.keyword('ILIKE')) return 'ILIKE';
  if (scanner.keyword('IN')) return 'IN';
  if (scanner.keyword('NOT')) {
    if (scanner.keyword('IN')) return 'NOT IN';
    throw scanner.error('expected IN after NOT');
  }
  if (scanner.keyword('IS')) {
    const negated = scanner.keyword('NOT');
    if (scanner.keyword('NULL')) return negated ? 'IS NOT NULL' : 'IS NULL';
    throw scanner.error('expected NULL after IS');
  }
  throw scanner.error('expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)');
}

function scalar(scanner: Scanner): string | number {
  scanner.skipSpace();
  const text = scanner.text[scanner.position] === '`' ? undefined : scanner.quoted();
  if (text !== undefined) return text;
  const number = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?(?![\w.])/i.exec(scanner.text.slice(scanner.position))?.[0];
  if (!number) throw scanner.error("expected a value: a quoted string like 'adam' or a number");
  scanner.position += number.length;
  return Number(number);
}

function value(scanner: Scanner, comparator: Comparator): FilterValue | null {
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') return null;
  if (comparator !== 'IN' && comparator !== 'NOT IN') return scalar(scanner);
  if (!scanner.symbol(['('])) throw scanner.error(`expected a parenthesised list after ${comparator}`);
  const values: Array<string | number> = [scalar(scanner)];
  while (scanner.symbol([','])) values.push(scalar(scanner));
  if (!scanner.symbol([')'])) throw scanner.error('expected , or ) in the list');
  return values;
}

export function parseSearchFilter(filter: string | undefined): FilterClause[] {
  const scanner = new Scanner(filter ?? '');
  const clauses: FilterClause[] = [];
  if (scanner.atEnd()) return clauses;
  do {
    const { entity, key } = identifier(scanner);
    const op = comparator(scanner);
    clauses.push({ entity, key, comparator: op, value: value(scanner, op) });
  } while (scanner.keyword('AND'));
  if (!scanner.atEnd()) {
    throw scanner.keyword('OR') ? scanner.error('OR is not supported, only AND') : scanner.error('expected AND or the end');
  }
  return clauses;
}

/** One `order_by` entry: `metrics.acc DESC`, `attributes.start_time`, `name ASC`. */
export function parseOrderBy(orderBy: string): OrderClause {
  const scanner = new Scanner(orderBy);
  const { entity, key } = identifier(scanner);
  const descending = scanner.keyword('DESC');
  if (!descending) scanner.keyword('ASC');
  if (!scanner.atEnd()) throw scanner.error('expected ASC, DESC or the end');
  return { entity, key, ascending: !descending };
}
