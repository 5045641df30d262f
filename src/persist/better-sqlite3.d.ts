// The part of better-sqlite3 v12's API that src/persist/sqlite.ts uses (no @types package is
// installed: package.json gains only better-sqlite3 itself).
declare module 'better-sqlite3' {
  namespace Database {
    interface Statement {
      run(...params: unknown[]): { changes: number };
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
    }
    interface Database {
      readonly open: boolean;
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(sql: string): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): F;
      close(): this;
    }
  }
  const Database: new (path: string, options?: Record<string, unknown>) => Database.Database;
  export default Database;
}
