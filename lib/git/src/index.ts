export { configRemoteUrl, discoverGitDirs } from './discover.js'
export { configRemotes, readRef } from './refs.js'
export {
  detectCheckout,
  excludeFromGit,
  findRepository,
  type GitDirs,
  gitDirs,
  normaliseOrigin,
  remoteUrl,
} from './repo.js'
export { assertGitOnPath, firstLine, type GitOptions, type GitResult, outputLines, runGit } from './run.js'
export { type GitStatus, parseStatus, readStatus, type StatusEntry } from './status.js'
