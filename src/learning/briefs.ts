/**
 * The customer texts training runs on (read by the local brief model): Korean and English, across
 * families, seasons, moods and refusals. Real briefs from the hub's feedback join them later.
 */
export const TRAINING_BRIEFS: readonly string[] = [
  'a warm amber for winter evenings, no musk',
  '여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요',
  'Romantic rose and jasmine eau de toilette for her',
  'fresh citrus with bergamot and lemon for the office',
  'woody sandalwood and cedar, no leather',
  '봄에 어울리는 플로럴 향, 장미와 복숭아',
  'something sweet and cozy with vanilla and tonka for autumn',
  '겨울에 어울리는 따뜻한 우디 향수, 머스크 빼고 샌달우드는 좋아요',
];
