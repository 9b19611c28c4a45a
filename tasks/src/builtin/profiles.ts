import {
  ConflictError,
  defineOutput,
  definePlugin,
  defineSection,
  defineStep,
  flag,
  type InstanceProfile,
  type InstanceRecord,
  lazySchema,
  type Plugin,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import * as z from 'zod'

const serviceName = lazySchema(() => z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a compose service name'))
const variableName = lazySchema(() =>
  z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an upper-case variable name, e.g. WORKERS')
    .refine(
      (name) => !['INSTANCE_ID', 'COMPOSE_PROJECT_NAME', 'SLOT_NUMBER', 'BERTH_PROFILE'].includes(name),
      'is set by berth itself',
    ),
)

/** One named profile: which of the stack's services run, and how many of each. */
export const profileSchema = lazySchema(() =>
  z.strictObject({
    /** One line for `sandbox list` / `status` readers. */
    description: z.string().optional(),
    /** Containers per compose service (`worker: 4`; `0` leaves a service out), written as `scale:` in the rendered file. */
    scale: z.record(serviceName, z.number().int().min(0).max(100)).default({}),
    /** Compose profiles this profile turns on: services whose `profiles:` name one of them start too. */
    composeProfiles: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)).default([]),
    /** The slots that can run it: `impl --profile P` claims the lowest free one of them instead of the pool. */
    slots: z.array(z.number().int().min(1)).min(1).optional(),
    /**
     * Non-secret values the instance's gate checks and compose see while it runs the profile, e.g.
     * `WORKERS: 4` for a check's `"minItems": "${WORKERS}"`. `BERTH_PROFILE` (its name) is always set.
     */
    env: z.record(variableName, z.union([z.string(), z.number()]).transform(String)).default({}),
    /** The profile an instance gets when `impl` names none (at most one profile). */
    default: z.boolean().default(false),
  }),
)

export const profilesConfigSchema = lazySchema(() =>
  z
    .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a lower-case profile name, e.g. heavy'), profileSchema)
    .superRefine((profiles, issue) => {
      const defaults = Object.entries(profiles).filter(([, p]) => p.default)
      if (defaults.length > 1) {
        issue.addIssue({
          code: 'custom',
          path: [defaults[1]![0], 'default'],
          message: `only one profile can be the default (${defaults.map(([name]) => name).join(' and ')} both are)`,
        })
      }
    })
    .default({}),
)

export const profilesSection = defineSection('profiles', profilesConfigSchema)

type Profiles = z.output<typeof profilesConfigSchema>

/** The profile an instance runs: its recorded one, else the config's default; undefined: the stack as written. */
function profileOf(profiles: Profiles, instance: Pick<InstanceRecord, 'profile'>): InstanceProfile | undefined {
  const name = instance.profile ?? Object.entries(profiles).find(([, p]) => p.default)?.[0]
  const profile = name ? profiles[name] : undefined
  if (!name || !profile) return undefined
  return {
    name,
    scale: profile.scale,
    composeProfiles: profile.composeProfiles,
    env: profile.env,
    ...(profile.slots ? { slots: profile.slots } : {}),
  }
}

function unknownProfile(name: string, profiles: Profiles): UsageError {
  const known = Object.keys(profiles)
  return new UsageError(`no profile named ${JSON.stringify(name)}`, {
    code: 'E_PROFILE',
    hint:
      known.length > 0
        ? `profiles in the config: ${known.join(', ')}`
        : 'add a "profiles" section to the berth config, e.g. { "heavy": { "scale": { "worker": 4 } } }',
  })
}

const profileFlag = {
  profile: flag.string("run the stack as the config's profile P (compose profiles, service scales, its gate values)", {
    value: 'P',
  }),
}

export const profileOutput = defineOutput(
  'profile',
  lazySchema(() =>
    z.object({
      name: z.string(),
      scale: z.record(z.string(), z.number()),
      composeProfiles: z.array(z.string()),
      env: z.record(z.string(), z.string()),
      slots: z.array(z.number()).optional(),
    }),
  ),
  {
    description: 'the slot profile the instance runs with: service scales, compose profiles, the values it sets',
    render: (profile, view) => {
      if (view.task !== 'sandbox.status' && view.task !== 'impl' && view.task !== 'sandbox.up') return []
      const scales = Object.entries(profile.scale).map(([service, n]) => `${service}×${n}`)
      const parts = [...scales, ...profile.composeProfiles.map((p) => `compose profile ${p}`)]
      return [`profile: ${profile.name}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`]
    },
  },
)

/**
 * `profiles.select`: `--profile P` for the instance. In `impl` (before the claim) it is recorded
 * with the claim, whose slot then comes from the profile's `slots`; in `sandbox up` the registered
 * instance switches to P — refused (exit 3) when its slot is not one P may run on. No undo: the
 * switch stays recorded when the start fails (the next `sandbox up` starts it as P again), and in
 * `impl` the claim it only annotated is undone by `registry.claim`.
 */
const selectStep = defineStep({
  description: "choose the instance's slot profile (--profile P; else the recorded one, else the config's default)",
  effect: 'write',
  flags: profileFlag,
  config: profilesSection,
  validate(ctx) {
    const name = ctx.flags.profile
    if (name === undefined) return
    const profile = ctx.settings[name]
    if (!profile) throw unknownProfile(name, ctx.settings)
    const slot = ctx.request.slot
    if (slot !== undefined && profile.slots && !profile.slots.includes(slot)) {
      throw new UsageError(`--slot ${slot} cannot run profile ${name}: its slots are ${profile.slots.join(', ')}`, {
        code: 'E_PROFILE_SLOT',
        hint: `leave out --slot (berth picks one of ${profile.slots.join(', ')}), or choose another profile`,
      })
    }
  },
  plan: (ctx) => (ctx.flags.profile ? `run as profile ${ctx.flags.profile}` : 'keep the recorded profile'),
  async run(ctx) {
    const instance = ctx.instance
    if (!instance) throw new UsageError('profiles.select needs an instance from an earlier step')
    const name =
      ctx.flags.profile ??
      (ctx.task === 'impl' ? Object.entries(ctx.settings).find(([, p]) => p.default)?.[0] : undefined)
    if (name === undefined || name === instance.profile) return
    const profile = ctx.settings[name]
    if (!profile) throw unknownProfile(name, ctx.settings)
    const registered = (await ctx.services.listInstances?.())?.some((r) => r.id === instance.id) ?? false
    if (registered) {
      if (profile.slots && instance.slot !== null && !profile.slots.includes(instance.slot)) {
        throw new ConflictError(
          `${instance.id} holds slot ${instance.slot}, which cannot run profile ${name} (its slots: ${profile.slots.join(', ')})`,
          {
            code: 'E_PROFILE_SLOT',
            hint: `'berth done ${instance.name ?? instance.id}' and 'berth impl ${instance.name ?? instance.id} --profile ${name}' to move it to one of those slots`,
          },
        )
      }
      if (!ctx.services.recordProfile) throw new UsageError('profiles.select: no registry plugin records profiles')
      await ctx.services.recordProfile(instance.id, name)
      ctx.log.info(`${instance.id} now runs profile ${name}${instance.profile ? ` (was ${instance.profile})` : ''}`)
    }
    ctx.instance = { ...instance, profile: name }
  },
})

/**
 * `profiles.apply`: the profile the instance runs, into the task's environment (`BERTH_PROFILE` and
 * the profile's `env`) for compose and the gate's `${VAR}`s; the rendered compose file takes its
 * scales and compose profiles (compose plugin, through `instanceProfile`). Read-only.
 */
const applyStep = defineStep({
  description: "the instance's slot profile into the environment of compose and the gate (BERTH_PROFILE, its env)",
  config: profilesSection,
  uses: [],
  outputs: [profileOutput],
  async run(ctx) {
    const instance = ctx.instance
    if (!instance) return
    if (instance.profile !== undefined && !ctx.settings[instance.profile]) {
      // Looking is never refused: status and compose config say so and show the stack as written.
      if (ctx.task === 'sandbox.status' || ctx.task === 'compose.config') {
        ctx.log.warn(`${instance.id} runs profile ${instance.profile}, which the config no longer has`)
        return
      }
      throw new UsageError(`${instance.id} runs profile ${instance.profile}, which the config no longer has`, {
        code: 'E_PROFILE',
        hint: `start it as another profile: berth sandbox up --profile <name> (${Object.keys(ctx.settings).join(', ') || 'none configured'})`,
      })
    }
    const profile = profileOf(ctx.settings, instance)
    if (!profile) return
    ctx.env = { ...ctx.env, BERTH_PROFILE: profile.name, ...profile.env }
    ctx.output.profile = profile
  },
})

/** `berth:profiles` — named slot profiles (light / standard / heavy): section `profiles`. */
export function profilesPlugin(): Plugin {
  return definePlugin({
    name: 'berth:profiles',
    version: '0.1.0',
    sections: [profilesSection],
    services: (ctx: TaskContext) => ({
      instanceProfile: (instance) => profileOf(profilesSection.read(ctx), instance),
    }),
    steps: { select: selectStep, apply: applyStep },
  })
}
