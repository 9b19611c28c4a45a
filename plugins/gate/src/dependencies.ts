/** A problem in the `after` graph, at a path relative to the gate section. */
export interface DependencyProblem {
  path: (string | number)[]
  message: string
}

interface Node {
  name?: unknown
  after?: unknown
}

/**
 * Duplicate names, `after` entries naming no check, and cycles (a check cannot wait for itself,
 * directly or through others). Tolerates malformed entries: the schema reports those.
 */
export function findDependencyProblems(checks: readonly Node[]): DependencyProblem[] {
  const problems: DependencyProblem[] = []
  const indexByName = new Map<string, number>()
  checks.forEach((check, index) => {
    if (typeof check.name !== 'string') return
    const first = indexByName.get(check.name)
    if (first === undefined) indexByName.set(check.name, index)
    else
      problems.push({
        path: ['checks', index, 'name'],
        message: `duplicate check name "${check.name}" (also checks[${first}])`,
      })
  })

  const edges = (index: number): string[] => {
    const after = checks[index]?.after
    return Array.isArray(after) ? after.filter((name): name is string => typeof name === 'string') : []
  }
  checks.forEach((_check, index) => {
    edges(index).forEach((name, position) => {
      if (!indexByName.has(name))
        problems.push({ path: ['checks', index, 'after', position], message: `unknown check "${name}"` })
    })
  })

  problems.push(...findCycles(checks.length, edges, indexByName))
  return problems
}

/** Depth-first search; each cycle is reported once, at the `after` entry that closes it. */
function findCycles(
  count: number,
  edges: (index: number) => string[],
  indexByName: Map<string, number>,
): DependencyProblem[] {
  const problems: DependencyProblem[] = []
  const state = new Array<'new' | 'open' | 'done'>(count).fill('new')
  const stack: number[] = []
  const nameOf = (index: number): string => [...indexByName].find(([, i]) => i === index)?.[0] ?? `#${index}`

  const visit = (index: number): void => {
    state[index] = 'open'
    stack.push(index)
    edges(index).forEach((name, position) => {
      const next = indexByName.get(name)
      if (next === undefined) return
      if (state[next] === 'open') {
        const cycle = [...stack.slice(stack.indexOf(next)), next].map(nameOf)
        problems.push({
          path: ['checks', index, 'after', position],
          message: `dependency cycle: ${cycle.join(' -> ')}`,
        })
      } else if (state[next] === 'new') {
        visit(next)
      }
    })
    stack.pop()
    state[index] = 'done'
  }

  for (const index of indexByName.values()) if (state[index] === 'new') visit(index)
  return problems
}
