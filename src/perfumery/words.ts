/**
 * How notes, refusals and odour descriptors are compared as words: lower case, letters only, plural
 * and final e dropped ("Leathery" and "leather", "Cedarwood" and "cedar" meet). One place, used by
 * the odour profiles, the note carriers and the refusals alike.
 */
export function stem(word: string): string {
  let w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('es') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('s') && w.length > 3 && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** "leather" is carried by Leathery, "cedar" by Cedarwood, "spice" by Spicy: a word and its -y / -wood / -ic form. */
export function wordCarries(word: string, token: string): boolean {
  if (word === token) return true;
  return word.startsWith(token) && ['y', 'wood', 'ic'].includes(word.slice(token.length));
}

/** Words too common in descriptor phrases to mean anything alone ("bois de rose", "new mown hay"). */
const STOP_WORDS = new Set(['de', 'of', 'the', 'and', 'like', 'new', 'mown']);

/** The stemmed words of a text: "Musk like" → ["musk"], "bois de rose" → ["boi", "rose"]. */
export function words(text: string): string[] {
  return text
    .split(/[\s,;()/-]+/)
    .map(stem)
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w));
}
