/**
 * The StateStore port: where a CA's files live and how a batch of changes to them becomes visible.
 * Commands read the state, compute every file they change, and commit them as one batch under the
 * store's exclusive lock; an implementation guarantees that a batch is seen whole or not at all, even
 * when the process is killed half way. Paths are always relative to the store's root and '/'-separated.
 */

export interface FileWrite {
  /** Relative to the CA directory, '/'-separated, without `.`/`..` segments or a leading '/'. */
  path: string
  /** Strings are written as UTF-8. */
  data: Uint8Array | string
  /**
   * Permission bits of the written file, applied exactly (the umask does not narrow them), e.g. 0o400
   * for private keys. When absent the file gets the usual default (0o666 less the umask), also when
   * it replaces an existing file.
   */
  mode?: number
  /**
   * A private key. Key paths (under a `private/` folder or named `*.key.pem`) are refused without
   * it, and a key is only ever created, never replaced: it is written as a new file (default mode
   * 0o400) just before the batch's commit point, outside the journal, so that no journal can ever
   * write a key, and removed again if the batch does not commit.
   */
  key?: boolean
}

export interface ReadOptions {
  /** The most bytes the caller accepts; a larger file is refused before it is read. */
  maxBytes?: number
}

export interface StateStore {
  /** Where the state lives, for messages (an absolute path for a directory store). */
  readonly root: string
  /**
   * A file's bytes, or undefined when it does not exist. Anything but a regular file is refused
   * (`state.corrupt`) without being opened; a file over `maxBytes` is refused (`state.too_large`)
   * without being read.
   */
  read(path: string, options?: ReadOptions): Promise<Buffer | undefined>
  /** The names (files and folders) in a folder, sorted; [] when the folder does not exist. '' is the root. */
  list(dir: string): Promise<string[]>
  /**
   * Runs `fn` holding the exclusive lock of the state, after completing or discarding any commit an
   * earlier process was interrupted in. Reads inside `fn` see one consistent state; reads outside it
   * may see a commit of another process half applied.
   */
  locked<T>(fn: () => Promise<T>): Promise<T>
  /**
   * Makes every one of `writes` visible, or none of them. Only inside `locked()`. Refuses, before
   * writing anything, paths that are malformed, escape the root, go through a symbolic link,
   * collide with a folder, name a key without `key` or an existing file with it (`state.path_invalid`).
   */
  commit(writes: FileWrite[]): Promise<void>
}
