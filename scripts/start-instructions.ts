export interface RunningPlatform {
  apiUrl: string;
  token: string;
  /** Each of these is absent when the environment named a server of its own instead. */
  temporalUi?: string | undefined;
  s3?: string | undefined;
  postgres?: string | undefined;
  clamd?: string | undefined;
  redis?: string | undefined;
  delivery: string;
  workerHealth: string;
  dataDir: string;
}

/**
 * What `npm start` prints once everything answers. The upload steps are a shell script as printed (test/npm-start
 * runs them): the lines under "Upload a file" up to the blank line upload and complete, the next block shows the
 * record, the last fetches a rendition through the edge.
 */
export function instructions(p: RunningPlatform): string {
  const api = p.apiUrl;
  const auth = '-H "Authorization: Bearer $TOKEN"';
  const row = (name: string, value: string | undefined) => (value ? `  ${name.padEnd(13)}${value}\n` : '');
  return `
Assetline is running.

${row('API', `${api}   (readiness: ${api}/readyz)`)}${row('Temporal UI', p.temporalUi && `${p.temporalUi}   (each asset is the workflow asset-<assetId>)`)}${row('S3', p.s3)}${row('Delivery', `${p.delivery}   (/media/<id>/content redirects here)`)}${row('Postgres', p.postgres)}${row('clamd', p.clamd)}${row('Redis', p.redis)}${row('Worker', p.workerHealth)}${row('Logs', `${p.dataDir}/logs/`)}
A token for owner 1, valid 30 days:
  export TOKEN=${p.token}

Upload a file (curl and jq; TYPE is the file's media type):
  FILE=photo.jpg TYPE=image/jpeg
  R=$(curl -sSf -X POST ${api}/media/upload-url ${auth} -H 'Content-Type: application/json' \\
    -d "{\\"filename\\":\\"$(basename "$FILE")\\",\\"contentType\\":\\"$TYPE\\",\\"sizeBytes\\":$(stat -c %s "$FILE")}")
  ID=$(echo "$R" | jq -r .assetId)
  curl -sSf "$(echo "$R" | jq -r .upload.url)" -H "Content-Type: $TYPE" --upload-file "$FILE"
  curl -sSf -X POST ${api}/media/$ID/complete ${auth}; echo

Then, until its status is ready (scan clean):
  curl -sSf ${api}/media/$ID ${auth} | jq '{status, scan, renditions: [.renditions[].name]}'

And its thumbnail, through the delivery edge:
  curl -sSfL "${api}/media/$ID/content?rendition=thumb-256" ${auth} -o thumb.webp

Ctrl-C stops everything; data stays in ${p.dataDir}/ (delete it to start afresh).
`;
}
