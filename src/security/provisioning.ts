/**
 * Shape checks of the provisioning JSON files (file-store layout, spec §3.5, §6.1, §6.2). Pure:
 * each takes the parsed JSON and returns the in-memory form, or throws an Error whose message
 * says what is wrong (the file store wraps it in a `SecurityConfigError` naming the file).
 */

/** `tenants.json`: `{ "<tenant>": "<pin>" }`; numeric pins are accepted as their text. */
export function parseTenants(value: unknown): Map<string, string> {
  if (!isRecord(value)) throw new Error('expected an object { "<tenant>": "<pin>" }');
  return new Map(Object.entries(value).map(([tenant, pin]) => {
    if (typeof pin !== 'string' && typeof pin !== 'number') throw new Error(`pin of tenant "${tenant}" must be a string`);
    return [tenant, String(pin)];
  }));
}

/** `admins.json`: `["name", ...]`. */
export function parseAdmins(value: unknown): Set<string> {
  if (!isStringArray(value)) throw new Error('expected an array of component names');
  return new Set(value);
}

/** `topic_auth.json`: `{ "<topic>": ["name", ...] }`. */
export function parseTopicAuth(value: unknown): Map<string, Set<string>> {
  if (!isRecord(value)) throw new Error('expected an object { "<topic>": ["name", ...] }');
  return new Map(Object.entries(value).map(([topic, names]) => {
    if (!isStringArray(names)) throw new Error(`names of topic "${topic}" must be an array of strings`);
    return [topic, new Set(names)];
  }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
