import { type InstanceRecord, instanceLabel, instanceRecordSchema } from './instance-record.js'
import { defineOutput } from './step.js'
import { colour } from './text.js'

/** The headline each command prints for its instance. */
function instanceHeadline(instance: InstanceRecord, task: string, output: Readonly<Record<string, unknown>>): string[] {
  const slot = instance.slot === null ? 'no slot' : `slot ${instance.slot}`
  const where = `(${slot}) ${instance.path}${instance.branch ? ` on ${instance.branch}` : ''}`
  const full = (verb: string) => [`${colour.green(verb)} ${instanceLabel(instance, ' as ')} ${where}`]
  switch (task) {
    case 'impl':
      return full(output.gate ? 'ready' : 'created')
    case 'spec':
      return full('created')
    case 'sandbox.up':
    case 'local-prod.up':
      return full('up')
    case 'sandbox.status':
    case 'local-prod.status':
      return full('instance')
    case 'local-prod.init':
      return full('registered')
    case 'sandbox.init':
      return [`${colour.green('registered')} ${instance.id} on slot ${instance.slot} (${instance.path})`]
    case 'sandbox.down':
    case 'local-prod.down':
      return [`stopped ${instance.id}`]
    case 'sandbox.destroy':
    case 'local-prod.destroy':
      return [`${colour.green('destroyed')} ${instance.id}`]
    case 'done':
      return [
        `${colour.green('done')} ${instanceLabel(instance)}: stack removed, worktree removed (branch kept), slot released`,
      ]
    default:
      return []
  }
}

/** `output.instance`: the instance a command made or acted on. */
export const instanceOutput = defineOutput('instance', instanceRecordSchema, {
  description: 'the instance the command made (registry.claim) or acted on (registry.resolve)',
  render: (instance, view) => instanceHeadline(instance, view.task, view.output),
})
