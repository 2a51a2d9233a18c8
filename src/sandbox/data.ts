// The sandbox's seed data: a few ambassadors and challenges, shaped like the upstream's JSON.

export const SANDBOX_TOKENS = {
  /** A manager token the sandbox accepts. */
  manager: 'sandbox-manager-token',
  /** A valid token without the manager role: every call answers 403. */
  forbidden: 'sandbox-forbidden-token',
} as const;

const i18n = (firstId: number, texts: Partial<Record<'en_GB' | 'fr_FR' | 'es_ES' | 'de_DE', string>>) =>
  Object.entries(texts).map(([lang, content], index) => ({ id_i18n_content: firstId + index, lang, content }));

export function seedAmbassadors() {
  const base = {
    image: null,
    username: null,
    status: 1,
    availability: null,
    unavailable: false,
    is_absent: false,
    absent_msg: null,
    fb_account: null,
    twitter_account: null,
    instagram_account: null,
    linkedIn_account: null,
    youtube_account: null,
    online: false,
    last_action_date: '2026-11-28 18:04:11',
  };
  return [
    { ...base, id_ambassador: 1, full_name: 'Ada Lovelace', username: 'ada', description: 'Runs the Paris store events.', instagram_account: 'ada.ambassador', online: true },
    { ...base, id_ambassador: 2, full_name: 'Grace Hopper', username: 'grace', description: 'Product expert, Madrid.', linkedIn_account: 'gracehopper' },
    { ...base, id_ambassador: 3, full_name: 'Alan Turing', description: 'On leave this month.', is_absent: true, absent_msg: 'Back on the 15th.' },
  ];
}

export function seedChallenges() {
  return [
    {
      id: 1,
      start_date: '2026-11-01T00:00:00Z',
      end_date: '2026-12-31T23:59:59Z',
      active: true,
      challengeable_type: 'order',
      challengeable: { order_attribution: 'coupon', product_sku: 'SKU-1001' },
      points: 100,
      proportional_points: false,
      titles: i18n(100, { en_GB: 'First sale', fr_FR: 'Première vente', es_ES: 'Primera venta', de_DE: 'Erster Verkauf' }),
      images: i18n(110, { en_GB: 'https://cdn.example.test/challenges/1.png' }),
      descriptions: i18n(120, { en_GB: 'Make your first sale with your code.', fr_FR: 'Réalisez votre première vente avec votre code.' }),
    },
    {
      id: 2,
      start_date: '2026-10-01T00:00:00Z',
      end_date: '2027-03-31T23:59:59Z',
      active: true,
      challengeable_type: 'content',
      challengeable: { network: 'instagram', min_posts: 3 },
      points: 50,
      proportional_points: true,
      titles: i18n(200, { en_GB: 'Post three reviews', fr_FR: 'Publiez trois avis' }),
      images: i18n(210, { en_GB: 'https://cdn.example.test/challenges/2.png' }),
      descriptions: i18n(220, { en_GB: 'Share three product reviews on Instagram.' }),
    },
    {
      id: 3,
      start_date: '2026-01-01T00:00:00Z',
      end_date: '2026-06-30T23:59:59Z',
      active: false,
      challengeable_type: 'referral',
      challengeable: { referrals: 5 },
      points: 250,
      proportional_points: false,
      titles: i18n(300, { de_DE: 'Fünf Empfehlungen', en_GB: 'Five referrals' }),
      images: [],
      descriptions: i18n(320, { en_GB: 'Bring five new customers.' }),
    },
  ];
}
