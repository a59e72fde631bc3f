/** Topics and wildcard patterns (spec 4.6): validation, matching, and the broker's pattern index. Pure. */
export { validateTopic, validatePattern, isPattern } from './validate.js';
export { compilePattern, matches } from './pattern.js';
export type { TopicMatcher } from './pattern.js';
export { PatternIndex } from './pattern-index.js';
