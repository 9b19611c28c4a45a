import { posix } from 'node:path'

/**
 * Which host paths a bind mount must never expose to a container, judged on the path compose will
 * mount: variables resolved first, then `~`, `.`, `..`, `//` and trailing slashes normalised, and
 * relative paths taken from the project folder (`./../../..` can reach `/`).
 */
export type SensitiveMount = 'host-root' | 'docker-socket' | 'etc' | 'home' | 'home-dot-folder'

export interface HostPathContext {
  /** The home folder `~` stands for (compose uses the caller's `HOME`). */
  home: string | undefined
  /** Where relative sources start: the compose project folder. */
  projectDir: string
}

/** The Docker engine's socket and the folders that hold it. */
const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock']
/** Files under /etc that hold no secret and are commonly mounted read-only for the time zone. */
const HARMLESS_ETC = new Set(['/etc/localtime', '/etc/timezone'])

/** An absolute, normalised host path for a bind source as written (after interpolation). */
export function normaliseHostPath(source: string, context: HostPathContext): string {
  let path = source.trim()
  if (path === '~' || path.startsWith('~/')) path = `${context.home ?? '~'}${path.slice(1)}`
  const absolute = posix.isAbsolute(path) ? path : posix.join(context.projectDir, path)
  const normalised = posix.normalize(absolute)
  return normalised.length > 1 ? normalised.replace(/\/+$/, '') : normalised
}

/**
 * Why mounting `path` (absolute, normalised) is dangerous, or undefined when it is not (a folder
 * inside the project folder never is):
 * - `host-root`: `/` itself;
 * - `docker-socket`: the engine's socket, or a folder holding it (`/var`, `/run`, `/var/run`) —
 *   whoever has it has root on the host;
 * - `etc`: `/etc` or anything below it (but `/etc/localtime` and `/etc/timezone`);
 * - `home`: a home folder (`~`, `/root`, `/home`, `/home/<user>`), or a folder holding one;
 * - `home-dot-folder`: a dot folder or file of a home folder (`~/.ssh`, `~/.aws`, `~/.docker`…)
 *   or anything below one: credentials live there.
 */
export function sensitiveMount(path: string, context: HostPathContext): SensitiveMount | undefined {
  const { home } = context
  if (path === '/') return 'host-root'
  // The project's own folders are the user's source, wherever the checkout lives (even in a dot folder).
  const project = posix.normalize(context.projectDir).replace(/\/+$/, '')
  if (project !== '' && project !== '/' && (path === project || isBelow(path, project))) return undefined
  if (DOCKER_SOCKETS.some((socket) => socket === path || isBelow(socket, path))) return 'docker-socket'
  if ((path === '/etc' || isBelow(path, '/etc')) && !HARMLESS_ETC.has(path)) return 'etc'
  for (const folder of homeFolders(path, home)) {
    if (path === folder || isBelow(folder, path)) return 'home'
    if (isBelow(path, folder) && path.slice(folder.length + 1).startsWith('.')) return 'home-dot-folder'
  }
  return undefined
}

/** Words for messages: `the host's root filesystem /`. */
export function describeSensitiveMount(kind: SensitiveMount, path: string): string {
  switch (kind) {
    case 'host-root':
      return "the host's root filesystem /"
    case 'docker-socket':
      return `${path}, which gives the container the Docker engine's socket (root on the host)`
    case 'etc':
      return `the host's ${path} (system configuration and credentials)`
    case 'home':
      return `the home folder ${path}`
    case 'home-dot-folder':
      return `${path}, a home folder's dot folder (credentials live there)`
  }
}

/** The home folders a path could be in or above: `/root`, `/home/<user>` and the caller's `HOME`. */
function homeFolders(path: string, home: string | undefined): string[] {
  const folders = new Set(['/root', '/home'])
  const user = /^\/home\/[^/]+/.exec(path)?.[0]
  if (user) folders.add(user)
  if (home && home !== '/' && posix.isAbsolute(home)) folders.add(posix.normalize(home).replace(/\/+$/, ''))
  // `/home` itself is a folder holding home folders: below it only `/home/<user>` decides.
  return [...folders].sort((a, b) => b.length - a.length)
}

/** True when `inner` is strictly below `outer`. */
function isBelow(inner: string, outer: string): boolean {
  return inner.startsWith(outer === '/' ? '/' : `${outer}/`) && inner !== outer
}
