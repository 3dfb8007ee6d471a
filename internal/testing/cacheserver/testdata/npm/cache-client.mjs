// Drives GitHub's own cache client, @actions/cache, against a cache server for
// internal/testing/cacheserver's tests. The server and the token come from the environment the
// runner sets (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2).
//
//   node cache-client.mjs save    <path> <key>
//   node cache-client.mjs restore <path> <key> [restore-key...]
//
// The package is loaded from $NPM_FIXTURES/node_modules (scripts/npm-fixtures.sh puts it
// in .tmp/npm). The last line of output is "RESULT <json>".
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.NPM_FIXTURES;
if (!root) {
  console.error('NPM_FIXTURES is not set');
  process.exit(2);
}
const cache = await import(pathToFileURL(join(root, 'node_modules/@actions/cache/lib/cache.js')).href);

const [cmd, path, key, ...restoreKeys] = process.argv.slice(2);
let result;
switch (cmd) {
  case 'save':
    result = { cacheId: await cache.saveCache([path], key) };
    break;
  case 'restore':
    result = { matchedKey: (await cache.restoreCache([path], key, restoreKeys)) ?? '' };
    break;
  default:
    console.error(`unknown command ${cmd}`);
    process.exit(2);
}
console.log('RESULT ' + JSON.stringify(result));
