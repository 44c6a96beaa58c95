/**
 * Local full-text search, the part every backend shares: the form text is compared in, and an
 * in-memory index for backends without one of their own (memory, the encrypted store). SQLite has
 * its own (FTS5, packages/node/src/sqlite-kv-store.ts) and compares in the same form.
 */

/**
 * The form searchable text and queries are compared in: NFKC (full-width and compatibility forms
 * become their plain letters) and lower case, so "ＣＡＦＥ", "Cafe" and "cafe" meet.
 */
export const searchForm = (text: string): string => text.normalize("NFKC").toLowerCase();

/** Searchable texts by key, in search form: what `search` scans. */
export class TextIndex {
  private readonly texts = new Map<string, string>();

  /** Applies one write's effect on searchable text: a deletion or a `null` forgets, a string replaces. */
  apply(key: string, deleted: boolean, text: string | null | undefined): void {
    if (deleted || text === null) this.texts.delete(key);
    else if (text !== undefined) this.texts.set(key, searchForm(text));
  }

  set(key: string, formText: string): void {
    this.texts.set(key, formText);
  }

  search(prefix: string, query: string, limit: number): string[] {
    const wanted = searchForm(query);
    const keys: string[] = [];
    for (const [key, text] of this.texts) if (key.startsWith(prefix) && text.includes(wanted)) keys.push(key);
    return keys.sort().reverse().slice(0, Math.max(0, limit));
  }

  clear(): void {
    this.texts.clear();
  }
}
