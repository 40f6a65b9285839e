// fs-native-extensions ships no type declarations; these cover what data-dir-lock.ts uses.
declare module 'fs-native-extensions' {
  /**
   * Takes an exclusive (or, with `shared`, a shared) lock on the open file without waiting:
   * true when taken, false when another open file description holds a conflicting lock.
   */
  export function tryLock(
    fd: number,
    offset?: number,
    length?: number,
    options?: { shared?: boolean },
  ): boolean;
}
