import { object, type Json } from './common';

/** activities/media/tools/per-title.ts LadderDecision: why each HLS rung of a video exists and at what rate. */
const int: Json = { type: 'integer' };
const num: Json = { type: 'number' };
const rungName: Json = { type: 'string', enum: ['360p', '480p', '720p', '1080p', '1440p', '2160p'] };
const window = object({ startSeconds: num, seconds: num });

const attempt = object(
  {
    crf: int,
    capKbps: int,
    ssim: {
      type: 'number',
      description:
        'Luma SSIM over every frame, reported by the encoder against the source scaled down to the rung size ' +
        '(measured on qualityWindows instead when the encoder gave none).',
    },
    psnr: { type: 'number', description: 'Mean PSNR (dB) over every frame and plane, likewise.' },
    encodedKbps: { type: 'integer', description: 'The encoded rung: all segments over its duration.' },
  },
  ['crf', 'capKbps'],
);

export const ladderDecisionSchema: Json = {
  ...object(
    {
      mode: { type: 'string', enum: ['per-title'] },
      probe: object({
        width: int,
        height: int,
        frameRate: num,
        crf: int,
        preset: { type: 'string' },
        windows: {
          type: 'array',
          items: object(
            {
              startSeconds: {
                type: 'number',
                description: 'On a keyframe of the source (found from packet flags).',
              },
              seconds: num,
              bytes: int,
              bitsPerPixel: {
                type: 'number',
                description: "Key frame and other frames weighed as in the ladder's 2 s GOP.",
              },
              keyFrameBytes: { type: 'integer', description: "x264's mean key-frame size in the window." },
              otherFrameBytes: {
                type: 'integer',
                description: "x264's mean size of the window's other frames.",
              },
            },
            ['startSeconds', 'seconds', 'bytes', 'bitsPerPixel'],
          ),
        },
      }),
      complexityBitsPerPixel: { type: 'number', description: "The hardest probe window's bits per pixel." },
      sourceVideoKbps: int,
      margins: object({ fixed: num, source: num, minStep: num, headroom: num }),
      rungs: {
        type: 'array',
        items: object({
          name: rungName,
          width: int,
          height: int,
          crf: int,
          capKbps: int,
          bufsizeKbps: int,
          fixedKbps: { type: 'integer', description: "The fixed ladder's rate for this rung." },
          predictedKbps: int,
          limitedBy: {
            type: 'string',
            enum: ['complexity', 'fixed-margin', 'source-margin', 'floor', 'no-probe'],
          },
          why: { type: 'string' },
          attempts: {
            type: 'array',
            items: attempt,
            description: 'Every encode of the rung, first first.',
          },
          publishedAttempt: {
            type: 'integer',
            description:
              'Index in `attempts` of the published encode (a re-encode that did not help is undone).',
          },
        }),
      },
      dropped: {
        type: 'array',
        items: object({ name: rungName, width: int, height: int, capKbps: int, why: { type: 'string' } }),
      },
      qualityWindows: {
        type: 'array',
        items: window,
        description:
          'Windows the validate stage measures SSIM/PSNR on (Y, U and V), the source scaled to each rung.',
      },
    },
    ['mode', 'probe', 'complexityBitsPerPixel', 'margins', 'rungs', 'dropped', 'qualityWindows'],
  ),
  description:
    'The per-title ladder of a video: complexity from constant-quality probe encodes, each rung’s capped-CRF ' +
    'rate and the bound that set it, dropped rungs, and each encode’s SSIM/PSNR.',
};
