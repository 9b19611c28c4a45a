import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { demuxLogStream, dockerSocketPath, engineCall, engineRequest, projectResourceCounts } from '../src/index.js'

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

  test('asks the real engine: its version, a 404 as a status, an unknown project as nothing', async () => {
    const version = await engineRequest<{ ApiVersion: string }>('/version')
    assert.match(version.ApiVersion, /^\d+\.\d+$/)
    const missing = await engineCall('/containers/berth-no-such-container-x/json')
    assert.equal(missing.statusCode, 404)
    assert.deepEqual(await projectResourceCounts('berth-no-such-project-x'), { containers: 0, volumes: 0 })
  })
})
