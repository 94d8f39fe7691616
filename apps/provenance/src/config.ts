/** Variables of the provenance service beyond the platform's (see README, Configuration). */
export const provenanceConfigShape = {};
