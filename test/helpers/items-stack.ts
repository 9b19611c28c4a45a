/**
 * A small stack nobody wrote for berth: busybox httpd (the test image, no registry needed) whose
 * CGI script keeps what is POSTed to it. A scratch repository holds it with a berth config.
 */
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { git, gitRepo, writeConfig } from './index.js'

const ITEMS_CGI = `#!/bin/busybox sh
printf 'Content-Type: application/json\\r\\n\\r\\n'
if [ "$REQUEST_METHOD" = "POST" ]; then
  /bin/busybox head -c "$CONTENT_LENGTH" >> /data/items.jsonl
  echo "" >> /data/items.jsonl
  echo '{"ok":true}'
else
  echo "{\\"count\\": $(/bin/busybox cat /data/items.jsonl 2>/dev/null | /bin/busybox wc -l)}"
fi
`

/** A free-ish block of host ports for one test file (slot N publishes `block + N`). */
export function itemsPortBlock(): number {
  return 52000 + Math.floor(Math.random() * 40) * 100
}

/**
 * `<parent>/<name>` (with a bare origin): compose.yaml publishing the API on `${SHOP_API_PORT}`,
 * and a berth config (ports, gate on `/`, plus `extra`), committed and pushed.
 */
export async function itemsStackRepo(
  parent: string,
  name: string,
  block: number,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const image = await ensureBusyboxTestImage()
  const { repo } = await gitRepo(parent, name, {
    'compose.yaml': [
      'services:',
      '  api:',
      `    image: ${image}`,
      '    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      '    volumes: ["./www:/www:ro"]',
      '    tmpfs: ["/data"]',
      '    ports: ["127.0.0.1:${SHOP_API_PORT}:8080"]',
      '',
    ].join('\n'),
    'www/index.html': 'ok\n',
    'www/cgi-bin/items': ITEMS_CGI,
  })
  chmodSync(join(repo, 'www/cgi-bin/items'), 0o755)
  writeConfig(repo, {
    compose: { files: ['compose.yaml'] },
    ports: { SHOP_API_PORT: { base: block } },
    slots: { pool: [1, 2] },
    gate: { timeout: 30, checks: [{ name: 'api', http: 'http://127.0.0.1:${SHOP_API_PORT}/', service: 'api' }] },
    ...extra,
  })
  await git(repo, 'add', '-A')
  await git(repo, 'update-index', '--chmod=+x', 'www/cgi-bin/items')
  await git(repo, 'commit', '-q', '-m', 'a stack and its berth config')
  await git(repo, 'push', '-q')
  return repo
}
