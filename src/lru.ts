/**
 * A bounded map that forgets its least recently used entry. `onEvict` runs for every entry that leaves
 * (by capacity, by `delete` or by `clear`), so owners can close resources held by values.
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("LruMap capacity must be a positive integer");
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.#entries.has(key)) this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as K;
      const evicted = this.#entries.get(oldest) as V;
      this.#entries.delete(oldest);
      this.onEvict?.(oldest, evicted);
    }
  }

  delete(key: K): boolean {
    const value = this.#entries.get(key);
    if (value === undefined) return false;
    this.#entries.delete(key);
    this.onEvict?.(key, value);
    return true;
  }

  clear(): void {
    for (const [key, value] of [...this.#entries]) {
      this.#entries.delete(key);
      this.onEvict?.(key, value);
    }
  }

  entries(): IterableIterator<[K, V]> {
    return this.#entries.entries();
  }
}
