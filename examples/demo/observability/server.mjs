// berth demo "observability UI" (stands in for the Jaeger UI on 16686): one HTML page.
import http from 'node:http'

const PORT = Number(process.env.PORT || 16686)
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const server = http.createServer((req, res) => {
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>berth demo observability - ${esc(INSTANCE_ID)}</title></head>
<body>
<h1>berth demo observability</h1>
<p>Instance: <code>${esc(INSTANCE_ID)}</code>, slot <code>${esc(process.env.SLOT_NUMBER ?? '')}</code></p>
<p>OTEL_RESOURCE_ATTRIBUTES: <code>${esc(process.env.OTEL_RESOURCE_ATTRIBUTES || '(none)')}</code></p>
</body></html>
`
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) })
  res.end(req.method === 'HEAD' ? undefined : html)
})

server.listen(PORT, '0.0.0.0', () => console.log(`[observability ${INSTANCE_ID}] listening on ${PORT}`))

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0))
}
