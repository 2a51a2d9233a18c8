// Importing a domain module registers its types and fields on the builder.
import { builder } from './builder.js';
import './errors.js';
import './i18n-content.js';
import './ambassador.js';
import './challenge.js';
import './challenge-history.js';

export const schema = builder.toSchema({ sortSchema: true });
