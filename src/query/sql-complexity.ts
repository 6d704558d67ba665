// A cheap scan of SQL text before SQLite compiles it: refuses statements too long or too deeply nested for the engine's stacks. It over-approximates; it never parses.

import { QueryError } from './query-error.ts';

/** Longest SQL text (bytes of UTF-8); SQLite is told the same (SQLITE_LIMIT_SQL_LENGTH). Far past hand-written or generated SQL with parameters, and it bounds the scan and the parser per request. */
export const MAX_SQL_BYTES = 100_000;
/**
 * Deepest expression nesting as estimated below: SQLite's own default SQLITE_MAX_EXPR_DEPTH, which
 * this build compiled out (SQLITE_MAX_EXPR_DEPTH=0), so SQL that stock SQLite accepts passes. SQLite
 * compiles expressions recursively on a 512 KiB wasm stack that overflows into static data without a
 * trap: measured, one level costs 130–150 bytes (`a AND b AND …`, `-(-(…))`, `abs(abs(…))`), and
 * about 3,900 levels overflowed. The weights below keep every measured shape under 150 bytes a level,
 * so the deepest statement admitted stays well inside the stack guard's budget
 * (test/unit/query/sql-complexity.test.ts measures each shape at its limit).
 */
export const MAX_EXPRESSION_DEPTH = 1_000;
/**
 * Most SELECT / VALUES keywords (subqueries, compound terms, common table expressions). Each can add
 * a level of recursion that the text does not nest — a compound term (~300 bytes of stack measured),
 * a CTE that reads the one before it (~250) — so 200 of them cost at most ~60 KiB. Ordinary
 * statements have a handful; SQLite's compound limit is set to the same number.
 */
export const MAX_SELECTS = 200;
/** Most items of one comma-separated list (IN list, VALUES rows, arguments, result columns). Lists are flat (no stack), but each item is ~100 bytes of parse tree and several VM instructions: 20,000 is far past any hand-written list and bounds that to a few MB. */
export const MAX_LIST_ITEMS = 20_000;
/** Largest literal (string, blob, number or quoted identifier, bytes). A value that large belongs in `params`, which carry up to the 1 MiB body. */
export const MAX_LITERAL_BYTES = 64 * 1024;

export interface ComplexityLimits {
  maxSqlBytes: number;
  maxExpressionDepth: number;
  maxSelects: number;
  maxListItems: number;
  maxLiteralBytes: number;
}

export const DEFAULT_COMPLEXITY_LIMITS: ComplexityLimits = {
  maxSqlBytes: MAX_SQL_BYTES,
  maxExpressionDepth: MAX_EXPRESSION_DEPTH,
  maxSelects: MAX_SELECTS,
  maxListItems: MAX_LIST_ITEMS,
  maxLiteralBytes: MAX_LITERAL_BYTES,
};

/** What the scan found: the largest of each measure over the statement. */
export interface SqlMeasure {
  /** Estimated expression depth (levels of ≤ 150 bytes of wasm stack). */
  depth: number;
  selects: number;
  listItems: number;
  literalBytes: number;
}

/**
 * Levels each construct adds to the estimate. An operator adds one to the chain it continues (a
 * chain of n operators is a tree n deep); a parenthesis nests its content one level deeper than the
 * chain it opens in, a call's arguments two, a subquery four (590 bytes a level measured, the
 * costliest shape); BETWEEN and the postfix tests (ISNULL, IS NULL, NOT NULL…) build several nodes at once.
 */
const W = { operator: 1, between: 3, postfix: 2, paren: 1, call: 2, subquery: 4, case: 2 } as const;

/** Keywords that continue an expression (binary or prefix operators), one level each. */
const OPERATOR_WORDS = new Set(['AND', 'OR', 'IN', 'LIKE', 'GLOB', 'MATCH', 'REGEXP', 'ESCAPE', 'COLLATE']);
/** Keywords that build two levels at once: ISNULL / NOTNULL, and IS / NOT, which can end the same postfix tests (`x IS NULL`, `x NOT NULL`: 290 bytes a level measured). */
const POSTFIX_WORDS = new Set(['ISNULL', 'NOTNULL', 'IS', 'NOT']);
/**
 * Keywords that start a new expression tree: clauses, CASE branches, compound operators. Only
 * reserved words: one SQLite also takes as a name (BY, OFFSET, WINDOW, PARTITION, WITH…: a column
 * may be called `offset`) would let `offset + offset + …` reset the chain it continues. FROM after
 * DISTINCT is the operator IS [NOT] DISTINCT FROM.
 */
const CLAUSE_WORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'ON',
  'USING',
  'JOIN',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'AS',
  'WHEN',
  'THEN',
  'ELSE',
]);
const SUBQUERY_WORDS = new Set(['SELECT', 'VALUES', 'WITH']);

const FRAME_PAREN = 0;
const FRAME_CASE = 1;

/**
 * Scans `sql` once, as SQLite's tokenizer would split it (comments, quoted strings and identifiers,
 * blobs, numbers, words, operators), keeping a stack of open parentheses and CASEs. The depth at a
 * point is the depth its innermost group opened at, plus the operators since the group's last
 * comma or clause keyword. Every tree SQLite builds from the text is at most that deep; keywords it
 * does not know are operands, which can only over-count.
 */
export function measureSql(sql: string): SqlMeasure {
  const n = sql.length;
  const out: SqlMeasure = { depth: 0, selects: 0, listItems: 0, literalBytes: 0 };
  // One entry per open group: the level the group opened at (its parent's), its base, its chain, its items.
  const kind: number[] = [FRAME_PAREN];
  const parentLevel: number[] = [0];
  const base: number[] = [0];
  const chain: number[] = [0];
  const items: number[] = [0];
  /** The group is in a FROM clause: a parenthesis there is a subquery even without SELECT (`(a JOIN b)`). */
  const inFrom: boolean[] = [false];
  let top = 0;
  /** The previous token named something a parenthesis would call (a word or quoted identifier). */
  let callable = false;
  /** The previous token opened the group on top (its first token decides whether it is a subquery). */
  let fresh = false;
  /** The previous token was DISTINCT (then FROM continues an expression). */
  let distinct = false;
  const bump = (levels: number): void => {
    chain[top] += levels;
    const d = base[top] + chain[top];
    if (d > out.depth) out.depth = d;
  };
  const open = (k: number, weight: number): void => {
    const level = base[top] + chain[top];
    top++;
    kind[top] = k;
    parentLevel[top] = level;
    base[top] = level + weight;
    chain[top] = 0;
    items[top] = 0;
    inFrom[top] = false;
    if (base[top] > out.depth) out.depth = base[top];
  };
  const literal = (bytes: number): void => {
    if (bytes > out.literalBytes) out.literalBytes = bytes;
  };

  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      i++;
      continue;
    }
    const wasFresh: boolean = fresh;
    const afterDistinct: boolean = distinct;
    fresh = false;
    distinct = false;
    let isCallable = false;
    if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      // -- comment
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
      fresh = wasFresh;
      distinct = afterDistinct;
      continue;
    }
    if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      // /* comment */
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      fresh = wasFresh;
      distinct = afterDistinct;
      continue;
    }
    if (c === 0x27 || c === 0x22 || c === 0x60 || c === 0x5b) {
      // 'string', "identifier", `identifier`, [identifier]
      const close = c === 0x5b ? 0x5d : c;
      const start = ++i;
      for (; i < n; i++) {
        if (sql.charCodeAt(i) !== close) continue;
        if (close !== 0x5d && sql.charCodeAt(i + 1) === close)
          i++; // doubled quote
        else break;
      }
      literal(utf8Bytes(sql, start, i));
      i++;
      isCallable = c !== 0x27;
    } else if ((c === 0x78 || c === 0x58) && sql.charCodeAt(i + 1) === 0x27) {
      // x'blob'
      const end = sql.indexOf("'", i + 2);
      const stop = end < 0 ? n : end;
      literal((stop - i - 2) >> 1);
      i = stop + 1;
    } else if (isDigit(c) || (c === 0x2e && isDigit(sql.charCodeAt(i + 1)))) {
      // a number: digits, letters (hex, exponent), dots, and the sign of an exponent
      const start = i;
      for (i++; i < n; i++) {
        const d = sql.charCodeAt(i);
        if (isWordChar(d) || d === 0x2e) continue;
        if ((d === 0x2b || d === 0x2d) && (sql.charCodeAt(i - 1) | 0x20) === 0x65 && !isHexNumber(sql, start)) continue;
        break;
      }
      literal(i - start);
    } else if (isWordStart(c)) {
      const start = i;
      for (i++; i < n && isWordChar(sql.charCodeAt(i)); i++);
      if (i - start > 16) {
        // Longer than any keyword: an identifier.
        literal(utf8Bytes(sql, start, i));
        isCallable = true;
      } else {
        const word = sql.slice(start, i).toUpperCase();
        if (OPERATOR_WORDS.has(word)) bump(W.operator);
        else if (word === 'BETWEEN') bump(W.between);
        else if (POSTFIX_WORDS.has(word)) bump(W.postfix);
        else if (word === 'CASE') open(FRAME_CASE, W.case);
        else if (word === 'END') {
          if (kind[top] === FRAME_CASE) top--;
        } else if (SUBQUERY_WORDS.has(word)) {
          // A SELECT opening a FROM clause's parenthesis was counted with it.
          if (word !== 'WITH' && !(wasFresh && inFrom[top])) out.selects++;
          // The first word inside a parenthesis: a subquery, nested deeper than a plain group.
          if (wasFresh && top > 0 && kind[top] === FRAME_PAREN) {
            base[top] = Math.max(base[top], parentLevel[top] + W.subquery);
            if (base[top] > out.depth) out.depth = base[top];
          }
          if (word !== 'WITH') chain[top] = 0;
          inFrom[top] = false;
        } else if (word === 'DISTINCT') distinct = true;
        else if (word === 'FROM' && afterDistinct) bump(W.operator);
        else if (CLAUSE_WORDS.has(word)) {
          chain[top] = 0;
          if (word !== 'AS') inFrom[top] = word === 'FROM' || word === 'JOIN';
        } else isCallable = true;
      }
    } else if (c === 0x28) {
      // (: a call's arguments, a group, or in a FROM clause a subquery (SQLite makes one of `(a JOIN b)`)
      const from = inFrom[top] && !callable;
      if (from) out.selects++;
      open(FRAME_PAREN, from ? W.subquery : callable ? W.call : W.paren);
      inFrom[top] = from;
      fresh = true;
      i++;
    } else if (c === 0x29) {
      // ): closes the innermost parenthesis (and any CASE left open inside it: a syntax error anyway)
      while (top > 0 && kind[top] === FRAME_CASE) top--;
      if (top > 0) top--;
      i++;
    } else if (c === 0x2c) {
      chain[top] = 0;
      items[top]++;
      if (items[top] + 1 > out.listItems) out.listItems = items[top] + 1;
      i++;
    } else if (c === 0x3b) {
      // ; ends a statement (the engine refuses a second one)
      top = 0;
      chain[0] = 0;
      items[0] = 0;
      i++;
    } else if (c === 0x3f || c === 0x3a || c === 0x40 || c === 0x24) {
      // ?NNN, :name, @name, $name
      for (i++; i < n && isWordChar(sql.charCodeAt(i)); i++);
    } else if (c === 0x2e) {
      i++; // a qualifier's dot
    } else if (isOperatorChar(c)) {
      // One operator, split as SQLite's tokenizer does: ->> and the two-character ones, else one character.
      i += operatorLength(sql, i);
      bump(W.operator);
    } else {
      i++;
    }
    callable = isCallable;
  }
  return out;
}

/**
 * Refuses SQL too long or too deeply nested: QueryError QUERY_TOO_COMPLEX with details
 * {limit, value, max}. `sqlBytes` is its UTF-8 length. Returns what the scan measured.
 */
export function checkSqlComplexity(sql: string, sqlBytes: number, limits: ComplexityLimits = DEFAULT_COMPLEXITY_LIMITS): SqlMeasure {
  if (sqlBytes > limits.maxSqlBytes)
    throw tooComplex('sql_bytes', sqlBytes, limits.maxSqlBytes, `sql is longer than ${limits.maxSqlBytes} bytes`);
  const m = measureSql(sql);
  if (m.depth > limits.maxExpressionDepth) {
    throw tooComplex(
      'expression_depth',
      m.depth,
      limits.maxExpressionDepth,
      `the statement nests deeper than ${limits.maxExpressionDepth} levels (operators, parentheses, calls, CASEs, subqueries)`,
    );
  }
  if (m.selects > limits.maxSelects)
    throw tooComplex('selects', m.selects, limits.maxSelects, `the statement has more than ${limits.maxSelects} SELECT or VALUES terms`);
  if (m.listItems > limits.maxListItems)
    throw tooComplex('list_items', m.listItems, limits.maxListItems, `a list in the statement has more than ${limits.maxListItems} items`);
  if (m.literalBytes > limits.maxLiteralBytes) {
    throw tooComplex(
      'literal_bytes',
      m.literalBytes,
      limits.maxLiteralBytes,
      `a literal in the statement is larger than ${limits.maxLiteralBytes} bytes; pass large values in params`,
    );
  }
  return m;
}

/** QUERY_TOO_COMPLEX with the details every such refusal carries. */
export function tooComplex(limit: string, value: number, max: number, message: string): QueryError {
  return new QueryError('QUERY_TOO_COMPLEX', message, { limit, value, max });
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isWordStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

function isWordChar(c: number): boolean {
  return isWordStart(c) || isDigit(c) || c === 0x24;
}

function isHexNumber(sql: string, start: number): boolean {
  return sql.charCodeAt(start) === 0x30 && (sql.charCodeAt(start + 1) | 0x20) === 0x78;
}

/** + - * / % & | < > = ! ~ */
function isOperatorChar(c: number): boolean {
  return (
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2a ||
    c === 0x2f ||
    c === 0x25 ||
    c === 0x26 ||
    c === 0x7c ||
    c === 0x3c ||
    c === 0x3e ||
    c === 0x3d ||
    c === 0x21 ||
    c === 0x7e
  );
}

const TWO_CHAR_OPERATORS = new Set(['||', '<<', '>>', '<=', '>=', '<>', '==', '!=', '->']);

function operatorLength(sql: string, i: number): number {
  if (sql.startsWith('->>', i)) return 3;
  return TWO_CHAR_OPERATORS.has(sql.slice(i, i + 2)) ? 2 : 1;
}

/** UTF-8 length of sql[start, end), counting each UTF-16 unit of a surrogate pair as 3 (over by 2 a pair). */
function utf8Bytes(sql: string, start: number, end: number): number {
  let bytes = end - start;
  for (let i = start; i < end; i++) {
    const c = sql.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 ? 2 : 1;
  }
  return bytes;
}
