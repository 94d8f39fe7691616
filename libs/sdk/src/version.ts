/** The SDK's version (libs/sdk/package.json). */
export const SDK_VERSION = '0.1.0';
