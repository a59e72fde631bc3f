/**
 * Which groups a topic reaches: exact patterns in a map, wildcard ones in a
 * {@link PatternIndex}, the catch-all `*` (every topic) in a list — the router's own layout.
 */
import { PatternIndex } from '../topic/pattern-index.js';
import { isPattern } from '../topic/validate.js';

/** The catch-all subscription (spec §4.6), kept here so router.ts and groups.ts need not import each other for it. */
const CATCH_ALL = '*';

export class GroupIndex<G extends { readonly pattern: string }> {
  private readonly exact = new Map<string, G[]>();
  private readonly patterns = new PatternIndex<G>();
  private readonly catchAll: G[] = [];

  add(group: G): void {
    const pattern = group.pattern;
    if (pattern === CATCH_ALL) this.catchAll.push(group);
    else if (isPattern(pattern)) this.patterns.add(pattern, group);
    else this.exact.set(pattern, [...(this.exact.get(pattern) ?? []), group]);
  }

  remove(group: G): void {
    const pattern = group.pattern;
    if (pattern === CATCH_ALL) this.catchAll.splice(this.catchAll.indexOf(group), 1);
    else if (isPattern(pattern)) this.patterns.remove(pattern, group);
    else {
      const rest = (this.exact.get(pattern) ?? []).filter((g) => g !== group);
      if (rest.length === 0) this.exact.delete(pattern);
      else this.exact.set(pattern, rest);
    }
  }

  /** Visit every group whose pattern matches `topic`. */
  match(topic: string, visit: (group: G) => void): void {
    const exact = this.exact.get(topic);
    if (exact !== undefined) for (const group of exact) visit(group);
    for (const group of this.catchAll) visit(group);
    if (this.patterns.size > 0) this.patterns.match(topic, (_, groups) => { for (const g of groups) visit(g); });
  }
}
