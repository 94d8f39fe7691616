/** Variables of the identity service beyond the platform's (see README, Configuration). */
export const identityConfigShape = {};
