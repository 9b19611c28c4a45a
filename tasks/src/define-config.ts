/**
 * What users write in `berth.config.ts`. Sections are validated at run time by the schemas of
 * the plugins that own them; this type gives editor help for the built-in ones.
 */
export interface BerthUserConfig {
  project?: string
  plugins?: (string | { use: string; options?: Record<string, unknown> })[]
  pipelines?: Record<
    string,
    | string[]
    | {
        remove?: string[]
        replace?: Record<string, string>
        insert?: { step: string; before?: string; after?: string }[]
        append?: string[]
      }
  >
  slots?: { pool?: number[]; max?: number; reserved?: number[] }
  ports?: Record<string, { base: number; stride?: number; count?: number; slot0?: number }>
  url?: { portVar?: string; host?: string; default?: string }
  [section: string]: unknown
}

/** Identity function that gives `berth.config.ts` type checking and completion. */
export function defineConfig(config: BerthUserConfig): BerthUserConfig {
  return config
}
