/**
 * Private topics (spec §6.2): a topic listed here is private, open only to the names in its set.
 * Shared by the file-backed and the in-memory security stores; each says how a change persists.
 */
export abstract class TopicAuthRules {
  protected topicAuth = new Map<string, Set<string>>();

  /** Make the current table durable (nothing to do for the in-memory store). */
  protected abstract persistTopicAuth(): Promise<void>;

  get hasPrivateTopics(): boolean { return this.topicAuth.size > 0; }

  isPrivate(topic: string): boolean { return this.topicAuth.has(topic); }

  isAuthorized(name: string, topic: string): boolean { return this.topicAuth.get(topic)?.has(name) ?? false; }

  privateTopics(): Record<string, string[]> {
    return Object.fromEntries([...this.topicAuth].map(([topic, names]) => [topic, [...names]]));
  }

  makePrivate(topic: string): Promise<void> {
    if (!this.topicAuth.has(topic)) this.topicAuth.set(topic, new Set());
    return this.persistTopicAuth();
  }

  makePublic(topic: string): Promise<void> {
    this.topicAuth.delete(topic);
    return this.persistTopicAuth();
  }

  authorize(topic: string, cid: string): Promise<void> {
    const names = this.topicAuth.get(topic) ?? new Set<string>();
    this.topicAuth.set(topic, names.add(cid));
    return this.persistTopicAuth();
  }

  unauthorize(topic: string, cid: string): Promise<void> {
    this.topicAuth.get(topic)?.delete(cid);
    return this.persistTopicAuth();
  }
}
