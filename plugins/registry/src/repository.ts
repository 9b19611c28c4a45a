/** A repository as a claim records it: its main checkout and its `origin` URL (normalised). */
export interface RepositoryRef {
  repo: string
  /** null: the repository has no origin; undefined: not known (a claim made before it was recorded). */
  origin?: string | null | undefined
}

/**
 * Whether two claims (or a claim and the command's checkout) belong to one repository: the same
 * main checkout, the same origin, or one cloned from the other's main checkout (a local-prod clone
 * of the main clone). Two repositories that merely share a folder name (`~/a/api`, `~/b/api`) are
 * different. A claim whose origin was never recorded is taken as the same when the project matches
 * — what berth did before — so an upgrade never hides a claim from its own repository.
 */
export function sameRepository(a: RepositoryRef, b: RepositoryRef): boolean {
  if (a.repo === b.repo) return true
  if (a.origin === undefined || b.origin === undefined) return true
  if (a.origin !== null && (a.origin === b.origin || a.origin === b.repo)) return true
  return b.origin !== null && b.origin === a.repo
}
