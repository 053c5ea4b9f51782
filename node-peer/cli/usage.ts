/** A mistake on the command line: exit status 2 with a pointer to --help. */
export class UsageError extends Error {}
