// Seed data of the demo backend: `node /app/seed.mjs` inside the backend service, after the
// migrations. berth runs it as a hook once per fresh database volume (not on every `up`); by
// hand: `docker compose exec backend node /app/seed.mjs`. Not idempotent on purpose: running it
// twice fails on the UNIQUE texts, which is how a test sees that it ran once.
import pg from 'pg'
import { DB } from './db.mjs'

const GREETINGS = ['hello from the seed data', 'bonjour des données initiales', 'hallo aus den Startdaten']

const client = new pg.Client({ ...DB, application_name: 'berth-demo-seed' })
await client.connect()
try {
  // One transaction: a seed that fails half-way leaves nothing, so berth can run it again.
  await client.query('BEGIN')
  for (const text of GREETINGS) await client.query('INSERT INTO greetings (text) VALUES ($1)', [text])
  await client.query('COMMIT')
  console.log(`seeded ${GREETINGS.length} greetings`)
} finally {
  await client.end()
}
