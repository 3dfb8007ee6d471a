// Runs GitHub's own artifact client (@actions/artifact) against a results
// service: lists the run's artifacts, finds one by name, downloads it, and
// writes what it saw as JSON for the Go test to check.
//
// Env: ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL (read by @actions/artifact),
// STAGELINE_NPM_ARTIFACT_DIR (where scripts/npm-artifact.sh installed the
// packages), STAGELINE_ARTIFACT_NAME, STAGELINE_EXPECTED_DIGEST,
// STAGELINE_DOWNLOAD_DIR, STAGELINE_RESULT (output file).
//
// @actions/core logs to stdout, so the result goes to a file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

// ESM ignores NODE_PATH: import the package by its installed path.
const entry = join(env('STAGELINE_NPM_ARTIFACT_DIR'), 'node_modules/@actions/artifact/lib/artifact.js');
const { DefaultArtifactClient } = await import(pathToFileURL(entry).href);
const client = new DefaultArtifactClient();

const name = env('STAGELINE_ARTIFACT_NAME');
const { artifacts } = await client.listArtifacts();
const { artifact } = await client.getArtifact(name);
const download = await client.downloadArtifact(artifact.id, {
  path: env('STAGELINE_DOWNLOAD_DIR'),
  expectedHash: env('STAGELINE_EXPECTED_DIGEST'),
});

writeFileSync(env('STAGELINE_RESULT'), JSON.stringify({
  listed: artifacts.map((a) => ({ name: a.name, id: a.id })),
  found: { name: artifact.name, id: artifact.id },
  downloadPath: download.downloadPath,
  digestMismatch: download.digestMismatch,
}));
