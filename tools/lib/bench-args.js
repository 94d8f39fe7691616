'use strict';
// The options of one bench suite, or the usage and exit 2 (the bench's usage-error code) when they do not parse.
function optionsOrExit(parseArgs, args, usage) {
  try {
    return parseArgs(args);
  } catch (e) {
    process.stderr.write(`bench: ${e.message}\n${usage}\n`);
    process.exit(2);
  }
}

module.exports = { optionsOrExit };
