import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  demuxLogStream,
  dockerSocketPath,
  engineCall,
  engineRequest,
  parseAnswer,
  projectResourceCounts,
} from '../src/index.js'

/** One frame of the engine's multiplexed log stream: stream id, 3 zero bytes, big-endian length, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

describe('the engine client', () => {
  test('finds the socket from DOCKER_HOST=unix://…, else the default one', () => {
    assert.equal(dockerSocketPath({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), '/run/user/1000/docker.sock')
    assert.equal(dockerSocketPath({}), '/var/run/docker.sock')
  })

  test('reads stdout and stderr frames of a log stream in order', () => {
    assert.equal(demuxLogStream(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')])), 'out\nerr\n')
  })

  test('reads a whole HTTP answer, plain or chunked', () => {
    const plain = parseAnswer(Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[1,2]'))
    assert.deepEqual({ status: plain.statusCode, body: plain.body.toString() }, { status: 200, body: '[1,2]' })
    const chunked = parseAnswer(
      Buffer.from('HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'),
    )
    assert.deepEqual({ status: chunked.statusCode, body: chunked.body.toString() }, { status: 404, body: 'abcde' })
    assert.throws(() => parseAnswer(Buffer.from('HTTP/1.0 200 OK\r\nX: y')))
  })

  test('asks the real engine: its version, a 404 as a status, an unknown project as nothing', async () => {
    const version = await engineRequest<{ ApiVersion: string }>('/version')
    assert.match(version.ApiVersion, /^\d+\.\d+$/)
    const missing = await engineCall('/containers/berth-no-such-container-x/json')
    assert.equal(missing.statusCode, 404)
    assert.match(missing.body.toString(), /no such container/i)
    const containers = await engineRequest<unknown[]>('/containers/json?all=1')
    assert.ok(Array.isArray(containers))
    const ping = await engineCall('/_ping', { method: 'GET' })
    assert.deepEqual({ status: ping.statusCode, body: ping.body.toString() }, { status: 200, body: 'OK' })
    assert.deepEqual(await projectResourceCounts('berth-no-such-project-x'), { containers: 0, volumes: 0 })
  })
})
