import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { EngineContainer } from '@berth/contract'
import { findOrphans, projectStatus, stateFromCounts, summariseProjects } from '../src/index.js'

/** A `/containers/json` entry as engine 20.10 answers it. */
function container(
  project: string,
  service: string,
  state: string,
  extra: Partial<EngineContainer> = {},
): EngineContainer {
  return {
    Id: `${project}-${service}`.padEnd(64, '0'),
    Names: [`/${project}_${service}_1`],
    Image: 'demo',
    State: state,
    Status: state === 'running' ? 'Up 3 seconds' : 'Exited (0) 1 second ago',
    Created: 0,
    Labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': service },
    Ports: [],
    ...extra,
  }
}

describe('compose status from one engine answer', () => {
  const answer = [
    container('acme-a', 'web', 'running', {
      Status: 'Up 5 seconds (healthy)',
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 21080, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 21080, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
      ],
    }),
    container('acme-a', 'db', 'running', { Status: 'Up 5 seconds (health: starting)' }),
    container('acme-b', 'web', 'running'),
    container('acme-b', 'db', 'exited'),
    container('acme-c', 'web', 'exited'),
    container('acme-a', 'web', 'exited', {
      Names: ['/acme-a_web_run_1'],
      Labels: {
        'com.docker.compose.project': 'acme-a',
        'com.docker.compose.service': 'web',
        'com.docker.compose.oneoff': 'True',
      },
    }),
  ]

  test('reports each container with its service, health and published ports', () => {
    const status = projectStatus(answer, 'acme-a')
    assert.equal(status.state, 'running')
    assert.deepEqual(status.containers, [
      { service: 'db', name: 'acme-a_db_1', state: 'running', health: 'starting', ports: [] },
      {
        service: 'web',
        name: 'acme-a_web_1',
        state: 'running',
        health: 'healthy',
        ports: [{ host: 21080, hostIp: '127.0.0.1', container: 8080 }],
      },
    ])
  })

  test('tells running, partial, stopped and absent projects apart', () => {
    assert.equal(projectStatus(answer, 'acme-b').state, 'partial')
    assert.equal(projectStatus(answer, 'acme-c').state, 'stopped')
    assert.equal(projectStatus(answer, 'acme-zzz').state, 'absent')
    assert.equal(projectStatus(answer, 'acme-a', ['web', 'db', 'worker']).state, 'partial')
    assert.equal(stateFromCounts(2, 2), 'running')
  })

  test('summarises every project at once for sandbox list', () => {
    const summaries = summariseProjects(answer)
    assert.deepEqual(Object.fromEntries(summaries), {
      'acme-a': { running: 2, total: 2, services: ['db', 'web'] },
      'acme-b': { running: 1, total: 2, services: ['db', 'web'] },
      'acme-c': { running: 0, total: 1, services: ['web'] },
    })
  })

  test('finds projects named like this repository’s instances that the registry does not know', () => {
    const volumes = [
      { Name: 'acme-d_data', Labels: { 'com.docker.compose.project': 'acme-d' } },
      { Name: 'acme-a_data', Labels: { 'com.docker.compose.project': 'acme-a' } },
      { Name: 'loose', Labels: null },
    ]
    const others = [...answer, container('acme', 'web', 'running'), container('other-x', 'web', 'running')]
    const orphans = findOrphans(others, volumes, ['acme-a', 'Acme-B'], 'acme')
    assert.deepEqual(orphans, [
      { project: 'acme-c', containers: 1, running: 0, volumes: [], services: ['web'] },
      { project: 'acme-d', containers: 0, running: 0, volumes: ['acme-d_data'], services: [] },
    ])
    assert.deepEqual(
      findOrphans(others, undefined, [], /^other-/).map((o) => o.project),
      ['other-x'],
    )
  })
})
