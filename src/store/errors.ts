/** Thrown when a create would overwrite something that already exists (domain, user, message id). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

/** Thrown when an operation names a row that does not exist (e.g. appending to an unknown mailbox). */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
}
