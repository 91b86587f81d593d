/**
 * The tables an object's SQLite database has. Objects here create each table
 * on its first write, so a cold start asks once which exist; every module of
 * the object takes its answer from the one read.
 */
export function tableNames(sql: SqlStorage): ReadonlySet<string> {
  return new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((r) => r.name),
  );
}
