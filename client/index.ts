/** @assetline/client: the typed SDK. The CLI (client/cli) is built on exactly this. */
export { AssetlineClient, SETTLED_STATUSES, call } from './client.ts';
export type { Api, Asset, AssetStatus, AssetSummary, ClientOptions, ListFilters } from './client.ts';
export { AssetlineError } from './errors.ts';
export type { ProblemDetails } from './errors.ts';
export type { UploadOptions, UploadProgress, UploadResult, UploadSession } from './upload.ts';
export type { UploadSource } from './source.ts';
export { verifyWebhook } from './webhook.ts';
export type { components, paths } from './generated/openapi.ts';
