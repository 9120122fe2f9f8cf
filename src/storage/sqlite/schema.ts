import type Database from 'better-sqlite3';

/** Bump when the schema changes, and add a step to MIGRATIONS that takes version N-1 to N. */
export const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE kv (ns TEXT NOT NULL, k BLOB NOT NULL, v TEXT NOT NULL, PRIMARY KEY (ns, k)) WITHOUT ROWID;
    CREATE TABLE log (stream TEXT NOT NULL, shard TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL,
                      PRIMARY KEY (stream, shard, seq)) WITHOUT ROWID;
    CREATE TABLE queue (queue TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, visible_at INTEGER NOT NULL, data TEXT NOT NULL,
                        PRIMARY KEY (queue, id)) WITHOUT ROWID;
    CREATE INDEX queue_visible ON queue (queue, visible_at, seq);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
};

export class SchemaError extends Error {}

/** Bring a database to SCHEMA_VERSION, or refuse one written by a newer Eddy. */
export function migrate(db: Database.Database, location: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new SchemaError(
      `The data dir ${location} was written by a newer Eddy (schema v${current}; this Eddy knows v${SCHEMA_VERSION}). ` +
        'Upgrade Eddy, or start with another --data-dir.',
    );
  }
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v];
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${v}`);
    })();
  }
}

export const TABLES = ['kv', 'log', 'queue'];
