// The git runner lives in @berth/git (one runner for all of berth); re-exported for the plugin's modules.
export { firstLine, type GitOptions, type GitResult, outputLines, runGit } from '@berth/git'
