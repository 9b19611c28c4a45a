/** Loader hooks for bench/profile.mjs: appends every module URL Node loads to a file. */
import { appendFileSync } from 'node:fs'

let file

export function initialize(data) {
  file = data.file
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context)
  appendFileSync(file, `${url}\n`)
  return result
}
