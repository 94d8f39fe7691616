/** Variables of the finance service beyond the platform's (see README, Configuration). */
export const financeConfigShape = {};
