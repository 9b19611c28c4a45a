import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { EngineContainer } from '@berth/contract'
import { demuxLogStream as demultiplex } from '@berth/engine'
import { serviceNames, splitServiceLogs } from '../src/index.js'

function container(project: string, service: string, name: string, oneOff = false): EngineContainer {
  return {
    Id: name,
    Names: [`/${name}`],
    Image: 'x',
    State: 'running',
    Status: 'Up',
    Created: 0,
    Labels: {
      'com.docker.compose.project': project,
      'com.docker.compose.service': service,
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': oneOff ? 'True' : 'False',
    },
    Ports: [],
  }
}

describe('service log splitting', () => {
  test('compose v1 prefixes (service_1) are split per service and the attach line is dropped', () => {
    const containers = [container('p1', 'backend', 'p1_backend_1'), container('p1', 'worker-1', 'p1_worker-1_1')]
    const text = [
      'Attaching to p1_backend_1, p1_worker-1_1',
      'backend_1        | [backend] listening | with a pipe',
      'worker-1_1       | [worker] registered',
      'backend_1        | [backend] second',
    ].join('\n')
    assert.deepEqual(splitServiceLogs(text, containers), {
      backend: '[backend] listening | with a pipe\n[backend] second\n',
      'worker-1': '[worker] registered\n',
    })
  })

  test('compose v2 prefixes (project-service-1 or service-1) are split too', () => {
    const containers = [container('p2', 'db', 'p2-db-1'), container('p2', 'api', 'p2-api-1')]
    const text = 'p2-db-1  | ready\napi-1  | up\ndb-1 | again\n'
    assert.deepEqual(splitServiceLogs(text, containers), { db: 'ready\nagain\n', api: 'up\n' })
  })

  test('one-off run containers are not services to collect logs of', () => {
    assert.deepEqual(
      serviceNames([
        container('p', 'web', 'p_web_1'),
        container('p', 'e2e', 'p_e2e_run_1', true),
        container('p', 'db', 'p_db_1'),
      ]),
      ['db', 'web'],
    )
  })

  test('the engine’s multiplexed log stream is joined back into text in arrival order', () => {
    const frame = (stream: number, text: string) => {
      const payload = Buffer.from(text)
      const header = Buffer.alloc(8)
      header[0] = stream
      header.writeUInt32BE(payload.length, 4)
      return Buffer.concat([header, payload])
    }
    const stream = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err ünï\n'), frame(1, 'out two\n')])
    assert.equal(demultiplex(stream), 'out one\nerr ünï\nout two\n')
  })
})
