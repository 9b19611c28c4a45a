// The git runner lives in @berth/git (one runner for all of berth); re-exported for the plugin's modules.
export {
  configRemotes,
  discoverGitDirs,
  firstLine,
  type GitOptions,
  type GitResult,
  outputLines,
  readRef,
  runGit,
} from '@berth/git'
