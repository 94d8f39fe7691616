/** Variables of the audit service beyond the platform's (see README, Configuration). */
export const auditConfigShape = {};
