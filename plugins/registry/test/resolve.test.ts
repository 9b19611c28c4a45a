import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BerthError } from '@berth/contract'
import { resolveByName, type StoredInstance } from '../src/index.js'

function record(id: string, name?: string, project = 'acme'): StoredInstance {
  return {
    id,
    ...(name ? { name } : {}),
    project,
    kind: 'impl',
    slot: 1,
    path: `/src/${id}`,
    repo: `/src/${project}`,
    createdByBerth: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    ports: {},
  }
}

const instances = [
  record('acme-impl-genome-m1', 'genome/M1'),
  record('acme-impl-genome-m2', 'genome/M2'),
  record('acme-impl-myfeature', 'MyFeature'),
  record('acme-spec-notes', 'notes'),
]

describe('resolveByName', () => {
  test('finds an instance by the name as typed, by any spelling of it, and by its id', () => {
    for (const name of ['genome/M1', 'genome-M1', 'genome-m1', 'Genome/m1', 'acme-impl-genome-m1']) {
      assert.equal(resolveByName(instances, name, 'acme').id, 'acme-impl-genome-m1', name)
    }
    for (const name of ['MyFeature', 'myfeature', 'MYFEATURE', 'myfeat']) {
      assert.equal(resolveByName(instances, name, 'acme').id, 'acme-impl-myfeature', name)
    }
  })

  test('a prefix of two names is ambiguous (exit 2) and lists both with their typed names', () => {
    assert.throws(
      () => resolveByName(instances, 'genome', 'acme'),
      (error: unknown) =>
        error instanceof BerthError &&
        error.exitCode === 2 &&
        error.message ===
          '"genome" matches 2 instances: acme-impl-genome-m1 (genome/M1), acme-impl-genome-m2 (genome/M2)',
    )
  })

  test('an unknown name is exit 2 listing what is registered', () => {
    assert.throws(
      () => resolveByName(instances, 'nothing/here', 'acme'),
      (error: unknown) =>
        error instanceof BerthError && error.exitCode === 2 && /registered: acme-impl/.test(error.hint!),
    )
  })
})
