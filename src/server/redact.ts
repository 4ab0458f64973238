/**
 * What a public answer must not carry: the addresses and file paths of our own machines (a Redis
 * URL in a 503, a state directory in /health). Replaced by a placeholder; the service log keeps
 * the full text. Applied to 5xx messages and health details, never to a client's own input echoed
 * in a 4xx. Written here: no library does this for free text.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Any URL: redis://user:secret@10.0.0.5:6379/0, http://llm.internal:8001/v1
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"()<>,;]+/gi, '<url>'],
  // IPv4 and bracketed IPv6, with a port or without
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<address>'],
  [/\[[0-9a-f:.]+\](?::\d{1,5})?/gi, '<address>'],
  // host:port where the host has a letter (not a time of day)
  [/\b(?=[a-z0-9.-]*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)*:\d{2,5}\b/gi, '<address>'],
  // Absolute paths of two or more parts (/var/lib/fai/hub/meta); a route (/v1/...) never reaches a 5xx message
  [/(?<![\w.:/])\/(?:[\w.@+-]+\/)+[\w.@+-]*/g, '<path>'],
];

export function redactInternals(text: string): string {
  let out = text;
  for (const [pattern, placeholder] of PATTERNS) out = out.replace(pattern, placeholder);
  return out;
}
