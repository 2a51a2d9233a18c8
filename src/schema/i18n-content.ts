import { builder } from './builder.js';
import type { I18nContentRecord } from '../upstream/types.js';

/** The languages the upstream documents; their GraphQL names map to its codes. */
export const LOCALE_CODES = ['en_GB', 'fr_FR', 'es_ES', 'de_DE'] as const;
export type LocaleCode = (typeof LOCALE_CODES)[number];
const DEFAULT_LOCALE: LocaleCode = 'en_GB';

export const Locale = builder.enumType('Locale', {
  description: 'A language the upstream documents. Serialized as en_GB, fr_FR, es_ES, de_DE upstream.',
  values: Object.fromEntries(LOCALE_CODES.map((code) => [code.toUpperCase(), { value: code }])) as Record<
    'EN_GB' | 'FR_FR' | 'ES_ES' | 'DE_DE',
    { value: LocaleCode }
  >,
});

function isLocaleCode(code: string | null): code is LocaleCode {
  return (LOCALE_CODES as readonly (string | null)[]).includes(code);
}

export const I18nContent = builder.objectRef<I18nContentRecord>('I18nContent').implement({
  description: 'One translation of a text, image URL or description.',
  fields: (t) => ({
    id: t.id({ resolve: (item) => item.id }),
    lang: t.field({
      type: Locale,
      description: 'The language, or null when the upstream sent a code outside Locale (see langCode).',
      resolve: (item) => (isLocaleCode(item.langCode) ? item.langCode : null),
    }),
    langCode: t.exposeString('langCode', { description: "The upstream's raw language code." }),
    content: t.exposeString('content'),
  }),
});

/** The content in `lang`, else in en_GB, else the first one; null for an empty list. */
export function pickContent(items: readonly I18nContentRecord[], lang: LocaleCode | null | undefined): string | null {
  const wanted = items.find((item) => item.langCode === (lang ?? DEFAULT_LOCALE));
  const fallback = items.find((item) => item.langCode === DEFAULT_LOCALE) ?? items[0];
  return (wanted ?? fallback)?.content ?? null;
}
