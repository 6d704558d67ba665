// An attacker's corpus of SQL that stresses a shared SQLite: expression bombs by shape (n = size), and single requests with the codes they must be refused with.

/** One shape of statement grown by `n`, over a table `t` with a column `c` (every shape stays one valid statement as n grows). */
export interface BombShape {
  name: string;
  build: (n: number, t: string, c: string) => string;
}

const list = (n: number, f: (i: number) => string, sep: string): string => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/** Every shape of nesting we know SQLite compiles recursively (and a few flat ones that must stay cheap). */
export const BOMB_SHAPES: BombShape[] = [
  { name: 'AND chain', build: (n, t, c) => `SELECT * FROM ${t} WHERE ${list(n, (i) => `${c} = ${i}`, ' AND ')}` },
  { name: 'OR chain', build: (n, t, c) => `SELECT * FROM ${t} WHERE ${list(n, (i) => `${c} = ${i}`, ' OR ')}` },
  { name: 'AND chain in the result', build: (n, t, c) => `SELECT ${list(n, (i) => `${c} = ${i}`, ' AND ')} FROM ${t}` },
  { name: '+ chain', build: (n) => `SELECT ${list(n, () => '1', ' + ')}` },
  { name: '+ chain of columns', build: (n, t, c) => `SELECT ${list(n, () => c, '+')} FROM ${t}` },
  { name: '|| chain', build: (n, t, c) => `SELECT ${list(n, () => c, ' || ')} FROM ${t}` },
  { name: '-> chain', build: (n) => `SELECT '{}'${" -> '$'".repeat(n)}` },
  { name: 'unary minus', build: (n) => `SELECT ${'- '.repeat(n)}1` },
  { name: '+- pairs', build: (n) => `SELECT 1${'+-'.repeat(n)}1` },
  { name: 'NOT NOT …', build: (n, t, c) => `SELECT ${'NOT '.repeat(n)}${c} FROM ${t}` },
  { name: '~~~', build: (n, t, c) => `SELECT ${'~'.repeat(n)}${c} FROM ${t}` },
  { name: 'nested parentheses', build: (n) => `SELECT ${'('.repeat(n)}1${')'.repeat(n)}` },
  { name: 'nested (1+(1+…))', build: (n) => `SELECT ${'(1+'.repeat(n)}1${')'.repeat(n)}` },
  { name: 'abs(abs(…))', build: (n) => `SELECT ${'abs('.repeat(n)}1${')'.repeat(n)}` },
  { name: 'abs(abs(column))', build: (n, t, c) => `SELECT ${'abs('.repeat(n)}${c}${')'.repeat(n)} FROM ${t}` },
  { name: 'coalesce(c, coalesce(…))', build: (n, t, c) => `SELECT ${`coalesce(${c}, `.repeat(n)}${c}${')'.repeat(n)} FROM ${t}` },
  { name: 'CAST(CAST(…))', build: (n, t, c) => `SELECT ${'CAST('.repeat(n)}${c}${' AS INTEGER)'.repeat(n)} FROM ${t}` },
  { name: 'scalar subqueries', build: (n) => `SELECT ${'(SELECT '.repeat(n)}1${')'.repeat(n)}` },
  {
    name: 'subqueries in WHERE',
    build: (n, t, c) => `SELECT * FROM ${t} WHERE ${c} IN ${`(SELECT ${c} FROM ${t} WHERE ${c} IN `.repeat(n)}(1)${')'.repeat(n)}`,
  },
  {
    name: 'EXISTS (EXISTS …)',
    build: (n, t) => `SELECT * FROM ${t} WHERE ${`EXISTS (SELECT 1 FROM ${t} WHERE `.repeat(n)}1${')'.repeat(n)}`,
  },
  { name: 'derived tables', build: (n, t, c) => `SELECT * FROM ${`(SELECT ${c} FROM `.repeat(n)}${t}${') AS s'.repeat(n)}` },
  {
    name: 'parenthesized joins',
    build: (n, t) => `SELECT count(*) FROM ${list(n, (i) => `(${t} AS a${i} JOIN `, '')}${t} AS z${')'.repeat(n)}`,
  },
  { name: 'nested CASE', build: (n, t, c) => `SELECT ${`CASE WHEN ${c} THEN 1 ELSE `.repeat(n)}0${' END'.repeat(n)} FROM ${t}` },
  { name: 'nested CASE in THEN', build: (n, t, c) => `SELECT ${`CASE WHEN ${c} THEN `.repeat(n)}1${' END'.repeat(n)} FROM ${t}` },
  { name: 'x BETWEEN x BETWEEN …', build: (n, t, c) => `SELECT ${`${c} BETWEEN `.repeat(n)}1${' AND 2'.repeat(n)} FROM ${t}` },
  { name: 'NOT BETWEEN', build: (n, t, c) => `SELECT ${`${c} NOT BETWEEN `.repeat(n)}1${' AND 2'.repeat(n)} FROM ${t}` },
  { name: 'ISNULL ISNULL …', build: (n, t, c) => `SELECT ${c}${' ISNULL'.repeat(n)} FROM ${t}` },
  { name: 'IS NULL IS NULL …', build: (n, t, c) => `SELECT ${c}${' IS NULL'.repeat(n)} FROM ${t}` },
  { name: 'NOT NULL NOT NULL …', build: (n, t, c) => `SELECT ${c}${' NOT NULL'.repeat(n)} FROM ${t}` },
  { name: 'IS NOT DISTINCT FROM chain', build: (n, t, c) => `SELECT ${list(n, () => c, ' IS NOT DISTINCT FROM ')} FROM ${t}` },
  { name: 'COLLATE chain', build: (n, t, c) => `SELECT ${list(n, () => `${c} COLLATE NOCASE`, ' < ')} FROM ${t}` },
  { name: 'x IN (x IN (…))', build: (n, t, c) => `SELECT ${`${c} IN (`.repeat(n)}1${')'.repeat(n)} FROM ${t}` },
  { name: 'NOT IN nesting', build: (n, t, c) => `SELECT ${`${c} NOT IN (`.repeat(n)}1${')'.repeat(n)} FROM ${t}` },
  { name: 'ORDER BY chain', build: (n, t, c) => `SELECT ${c} FROM ${t} ORDER BY ${list(n, () => c, ' + ')}` },
  { name: 'GROUP BY chain', build: (n, t, c) => `SELECT count(*) FROM ${t} GROUP BY ${list(n, () => c, ' * ')}` },
  { name: 'window ORDER BY chain', build: (n, t, c) => `SELECT sum(${c}) OVER (ORDER BY ${list(n, () => c, ' - ')}) FROM ${t}` },
  { name: 'FILTER chain', build: (n, t, c) => `SELECT count(*) FILTER (WHERE ${list(n, () => c, ' + ')}) FROM ${t}` },
  {
    name: 'identifier named like a clause',
    build: (n) => `WITH q("offset") AS (SELECT 1) SELECT ${list(n, () => 'offset', ' + ')} FROM q`,
  },
  { name: 'UNION ALL compound', build: (n, t, c) => list(n, () => `SELECT ${c} FROM ${t}`, ' UNION ALL ') },
  { name: 'compound in FROM', build: (n, t, c) => `SELECT count(*) FROM (${list(n, () => `SELECT ${c} FROM ${t}`, ' UNION ALL ')})` },
  {
    name: 'CTE chain',
    build: (n, t, c) =>
      `WITH c0(v) AS (SELECT ${c} FROM ${t}), ${list(n, (i) => `c${i + 1}(v) AS (SELECT v FROM c${i})`, ', ')} SELECT count(*) FROM c${n}`,
  },
  {
    name: 'CTEs expanding each other',
    build: (n, t, c) =>
      `WITH c0(v) AS (SELECT ${c} FROM ${t}), ${list(n, (i) => `c${i + 1}(v) AS (SELECT v FROM c${i} UNION ALL SELECT v FROM c${i})`, ', ')} SELECT count(*) FROM c${n}`,
  },
  { name: 'IN list', build: (n, t, c) => `SELECT count(*) FROM ${t} WHERE ${c} IN (${list(n, (i) => String(i), ',')})` },
  { name: 'VALUES rows', build: (n) => `VALUES ${list(n, (i) => `(${i})`, ',')}` },
  { name: 'CASE with many branches', build: (n, t, c) => `SELECT CASE ${list(n, (i) => `WHEN ${c} = ${i} THEN ${i}`, ' ')} END FROM ${t}` },
];

/** A single hostile request and the codes it may be refused with (all 4xx). */
export interface Bomb {
  name: string;
  sql: string;
  params?: unknown[];
  codes: string[];
}

const COMPLEX = ['QUERY_TOO_COMPLEX'];

/**
 * Requests sent whole: every shape far past the limits, literals, SQLite's own limits (LIKE pattern,
 * JSON depth, value length, columns, arguments, variables), runaway recursive CTEs, expansion bombs.
 * Over table `t`, column `c`.
 */
export function sqlBombs(t: string, c: string): Bomb[] {
  const bombs: Bomb[] = BOMB_SHAPES.filter(
    (s) => !['IN list', 'VALUES rows', 'CASE with many branches', 'CTEs expanding each other'].includes(s.name),
  ).map((s) => ({
    name: `${s.name}, 3,000 deep`,
    sql: s.build(3000, t, c),
    codes: COMPLEX,
  }));
  return [
    ...bombs,
    { name: 'AND chain, 20,000 terms (past the length)', sql: BOMB_SHAPES[0].build(20_000, t, c), codes: COMPLEX },
    { name: 'IN list of 25,000 items', sql: `SELECT count(*) FROM ${t} WHERE ${c} IN (${list(25_000, () => '1', ',')})`, codes: COMPLEX },
    { name: 'VALUES of 21,000 rows', sql: `VALUES ${list(21_000, () => '(1)', ',')}`, codes: COMPLEX },
    { name: 'a 70 kB string literal', sql: `SELECT length('${'x'.repeat(70_000)}')`, codes: COMPLEX },
    { name: 'a 400 kB string literal', sql: `SELECT length('${'x'.repeat(400_000)}')`, codes: COMPLEX },
    { name: 'a 150 kB blob literal', sql: `SELECT length(x'${'ab'.repeat(150_000)}')`, codes: COMPLEX },
    { name: 'a 70,000-digit number', sql: `SELECT ${'9'.repeat(70_000)}`, codes: COMPLEX },
    { name: 'a 20 kB LIKE pattern', sql: `SELECT 'a' LIKE '${'%a'.repeat(10_000)}'`, codes: ['SQL_ERROR'] },
    { name: 'a 20 kB LIKE pattern in params', sql: 'SELECT ? LIKE ?', params: ['a', '%a'.repeat(10_000)], codes: ['SQL_ERROR'] },
    { name: 'json() 5,000 deep', sql: `SELECT json('${'['.repeat(5000)}${']'.repeat(5000)}')`, codes: ['SQL_ERROR'] },
    {
      name: 'json() 50,000 deep in params',
      sql: 'SELECT json_valid(?), json(?)',
      params: ['['.repeat(50_000), '{"a":'.repeat(50_000)],
      codes: ['SQL_ERROR'],
    },
    {
      name: 'endless recursive CTE',
      sql: 'WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r',
      codes: ['QUERY_TOO_EXPENSIVE'],
    },
    {
      name: 'recursive CTE doubling a string',
      sql: "WITH RECURSIVE r(s) AS (SELECT 'xx' UNION ALL SELECT s || s FROM r) SELECT count(*) FROM r",
      codes: ['SQL_ERROR', 'QUERY_TOO_EXPENSIVE'],
    },
    {
      name: 'recursive CTE building deep JSON',
      sql: "WITH RECURSIVE r(n, j) AS (SELECT 0, '1' UNION ALL SELECT n + 1, json_array(json(j)) FROM r WHERE n < 5000) SELECT max(length(j)) FROM r",
      codes: ['SQL_ERROR', 'QUERY_TOO_EXPENSIVE'],
    },
    {
      name: 'CTEs expanding each other, 30 levels',
      sql: BOMB_SHAPES.find((s) => s.name === 'CTEs expanding each other')!.build(30, t, c),
      codes: ['SQL_ERROR', 'QUERY_TOO_EXPENSIVE'],
    },
    { name: 'zeroblob(1e9)', sql: 'SELECT length(zeroblob(1000000000))', codes: ['SQL_ERROR'] },
    {
      name: 'a 32 MB string built by replace()',
      sql: "SELECT length(replace(hex(zeroblob(8000000)), '0', '00'))",
      codes: ['SQL_ERROR', 'QUERY_TOO_EXPENSIVE'],
    },
    { name: '2,001 result columns', sql: `SELECT ${list(2001, () => '1', ',')}`, codes: ['SQL_ERROR'] },
    { name: '1,001 function arguments', sql: `SELECT max(${list(1001, () => '1', ',')})`, codes: ['SQL_ERROR'] },
    { name: 'parameter ?40000', sql: 'SELECT ?40000', codes: ['SQL_ERROR'] },
    { name: 'ATTACH', sql: "ATTACH ':memory:' AS m", codes: ['SQL_ERROR', 'QUERY_NOT_READ_ONLY'] },
  ];
}
