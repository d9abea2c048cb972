import { ASSET_STATUSES } from '../../domain/asset-status';
import { VISIBILITIES } from '../../domain/visibility';
import { dateTime, nullable, object, ref, uuid, type Json } from './common';
import { ladderDecisionSchema } from './ladder-decision';
import { regionPolicySchema } from './regions';

const status: Json = { type: 'string', enum: [...ASSET_STATUSES] };

const rendition = object({
  name: { type: 'string', examples: ['thumb-256', 'poster', 'hls'] },
  mimeType: { type: 'string' },
  width: nullable({ type: 'integer' }),
  height: nullable({ type: 'integer' }),
  bitRate: nullable({ type: 'integer' }),
  durationSeconds: nullable({ type: 'number' }),
  sizeBytes: { type: 'integer' },
});

const summaryProperties: Record<string, Json> = {
  assetId: uuid,
  version: { type: 'integer', description: 'Grows with every change of what this document shows.' },
  ownerId: { type: 'string', pattern: '^[1-9][0-9]*$', description: 'Numeric, as text: a Postgres bigint.' },
  status: ref('AssetStatus'),
  statusReason: nullable({ type: 'string' }),
  failedStage: nullable({ type: 'string' }),
  filename: { type: 'string' },
  contentType: {
    type: 'string',
    description: 'As sniffed from the bytes once verified; declared until then.',
  },
  declaredContentType: nullable({ type: 'string' }),
  sizeBytes: { type: 'integer' },
  checksumSha256: nullable({ type: 'string', pattern: '^[0-9a-f]{64}$' }),
  regions: regionPolicySchema,
  metadata: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description: "The user's tags; extracted media.* facts are in `media`.",
  },
  media: nullable({
    type: 'object',
    properties: { ladder: ref('LadderDecision') },
    description:
      'Extracted facts (dimensions, duration, codecs, EXIF...); for a video, `ladder` says how its HLS ladder was decided.',
  }),
  scan: nullable(
    object({
      status: { type: 'string', enum: ['pending', 'clean', 'infected', 'skipped'] },
      signature: nullable({ type: 'string' }),
    }),
  ),
  placeholder: nullable({ type: 'string', description: 'A ThumbHash (base64) of a ready image or poster.' }),
  tier: {
    ...nullable({ type: 'string', enum: ['hot', 'warm', 'cold'] }),
    description: 'Storage tier of the bytes: moves down while nobody reads them, back to hot on a read.',
  },
  tierChangedAt: nullable(dateTime),
  renditions: { type: 'array', items: ref('Rendition'), description: 'Empty until the asset is ready.' },
  visibility: ref('Visibility'),
  publishAt: {
    ...nullable(dateTime),
    description: 'A scheduled release: the asset becomes `publishAs` then.',
  },
  publishAs: nullable({ type: 'string', enum: ['private', 'unlisted', 'public'] }),
  unpublishAt: { ...nullable(dateTime), description: 'From then on the asset is private again.' },
  releasedAt: {
    ...nullable(dateTime),
    description: 'When it last became public or unlisted (the public catalogue orders by it).',
  },
  uploadExpiresAt: dateTime,
  createdAt: dateTime,
  updatedAt: dateTime,
};

const event = object({
  type: {
    type: 'string',
    enum: ['asset.transition', 'asset.published', 'asset.unpublished'],
    description: 'A status transition, or a visibility change (the status stays: from = to).',
  },
  from: nullable(ref('AssetStatus')),
  to: ref('AssetStatus'),
  stage: nullable({ type: 'string' }),
  reason: nullable({ type: 'string' }),
  details: { type: 'object' },
  at: dateTime,
});

/** The shapes of api/asset-summary.ts and api/asset-view.ts. */
export const assetSchemas: Record<string, Json> = {
  AssetStatus: status,
  Visibility: {
    type: 'string',
    enum: [...VISIBILITIES],
    description:
      'draft: the owner and grantees with write or delete; private: grants; unlisted: anyone with the id or a ' +
      'delivery URL, never listed; public: anyone, listed in GET /catalog.',
  },
  Rendition: rendition,
  LadderDecision: ladderDecisionSchema,
  AssetSummary: object(summaryProperties),
  Asset: object({
    ...summaryProperties,
    events: { type: 'array', items: event, description: 'Every status transition, oldest first.' },
    stage: {
      ...nullable(
        object({
          name: { type: 'string' },
          percent: nullable({ type: 'number', minimum: 0, maximum: 100 }),
        }),
      ),
      description:
        "The workflow's live stage; null once settled, or when the workflow does not answer quickly.",
    },
  }),
  /** What asset-changing routes answer. */
  AssetStatusChange: object({ assetId: uuid, status: ref('AssetStatus') }),
};
