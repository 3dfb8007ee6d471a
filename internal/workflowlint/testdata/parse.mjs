// Parses GitHub Actions files with GitHub's own parser, @actions/workflow-parser
// (the one behind the Actions language server), and prints every error as JSON.
//
// Usage: node parse.mjs <workflow|action> <file>...
// Env: STAGELINE_NPM_ARTIFACT_DIR, where scripts/npm-artifact.sh installed it.
// Output (stdout): {"<file>": ["error", ...], ...}
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.STAGELINE_NPM_ARTIFACT_DIR;
if (!dir) throw new Error('STAGELINE_NPM_ARTIFACT_DIR is not set');
// The package imports its JSON schemas without `with { type: 'json' }`, which
// bundlers accept and Node refuses; a load hook serves them as modules.
register('data:text/javascript,' + encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.json') && url.includes('/@actions/workflow-parser/')) {
    const json = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: 'export default ' + json + ';', shortCircuit: true };
  }
  return next(url, context);
}`));

// ESM ignores NODE_PATH: import the modules by their installed path.
const load = (p) => import(pathToFileURL(join(dir, 'node_modules/@actions/workflow-parser/dist', p)).href);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await load('index.js');
const { parseAction } = await load('actions/action-parser.js');
const { convertActionTemplate } = await load('actions/action-template.js');

const [kind, ...files] = process.argv.slice(2);
const out = {};
for (const name of files) {
  const file = { name, content: readFileSync(name, 'utf8') };
  let result;
  if (kind === 'workflow') {
    result = parseWorkflow(file, new NoOperationTraceWriter());
    // Conversion runs the semantic checks (needs, matrices, cron, ...).
    // TryConversion: report semantic errors even after syntax errors.
    if (result.value) await convertWorkflowTemplate(result.context, result.value, undefined, { errorPolicy: 1 });
  } else if (kind === 'action') {
    result = parseAction(file, new NoOperationTraceWriter());
    if (result.value) convertActionTemplate(result.context, result.value, { errorPolicy: 1 });
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (!result.value && errors.length === 0) errors.push('the parser produced no document');
  out[name] = errors;
}
process.stdout.write(JSON.stringify(out));
