import assert from 'node:assert/strict'
import { test } from 'node:test'
import { demuxLogStream } from '@berth/engine'

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

test('demuxLogStream joins stdout and stderr frames of the engine log stream in order', () => {
  const body = Buffer.concat([frame(1, 'listening on 8000\n'), frame(2, 'warn: slow\n'), frame(1, 'ready\n')])
  assert.equal(demuxLogStream(body), 'listening on 8000\nwarn: slow\nready\n')
})

test('demuxLogStream returns a TTY container’s raw log text as it is', () => {
  assert.equal(demuxLogStream(Buffer.from('plain tty output\nsecond line\n')), 'plain tty output\nsecond line\n')
  assert.equal(demuxLogStream(Buffer.alloc(0)), '')
})
