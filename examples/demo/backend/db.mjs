// The PostgreSQL login every backend script uses, from the service's environment (compose passes
// DB_PASSWORD from the instance's secrets; nothing is read from files).
export const DB = {
  host: process.env.DB_HOST || 'db',
  port: Number(process.env.DB_PORT || 5432),
  user: process.env.DB_USER || 'demo',
  database: process.env.DB_NAME || 'demo',
  password: process.env.DB_PASSWORD || '',
  connectionTimeoutMillis: 5000,
}
