// Schema migrations of the demo backend: `node /app/migrate.mjs` inside the backend service.
// berth runs it as a hook after every `up`, before the gate checks that need the schema (see
// the repository's berth.config.json); by hand: `docker compose exec backend node /app/migrate.mjs`.
// Idempotent: each migration runs once, recorded in schema_migrations, inside a transaction.
import pg from 'pg'
import { DB } from './db.mjs'

const MIGRATIONS = [
  [
    1,
    'jobs',
    `CREATE TABLE jobs (
       id bigserial PRIMARY KEY,
       input text NOT NULL,
       status text NOT NULL DEFAULT 'queued',
       result text,
       worker text,
       created_at timestamptz NOT NULL DEFAULT now(),
       done_at timestamptz
     )`,
  ],
  [2, 'greetings', 'CREATE TABLE greetings (id serial PRIMARY KEY, text text NOT NULL UNIQUE)'],
]

const client = new pg.Client({ ...DB, application_name: 'berth-demo-migrate' })
await client.connect()
try {
  await client.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  )
  const { rows } = await client.query('SELECT version FROM schema_migrations')
  const applied = new Set(rows.map((row) => row.version))
  let count = 0
  for (const [version, name, sql] of MIGRATIONS) {
    if (applied.has(version)) continue
    await client.query('BEGIN')
    try {
      await client.query(sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, name])
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK')
      throw new Error(`migration ${version} (${name}) failed: ${err.message}`)
    }
    console.log(`applied migration ${version}: ${name}`)
    count += 1
  }
  const latest = MIGRATIONS.at(-1)[0]
  console.log(count === 0 ? `schema up to date (version ${latest})` : `schema migrated to version ${latest}`)
} finally {
  await client.end()
}
