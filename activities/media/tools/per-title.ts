import { round } from './numbers';
import type { Rung, RungName } from './ladder';

/**
 * Per-title ladder: the fixed ladder's sizes, each encoded with capped CRF (constant quality, with a rate cap
 * from the clip's measured complexity), rungs that would add too little over the one below dropped.
 */

/** CRF of every rung's first encode (x264, veryfast). */
export const LADDER_CRF = 22;
/**
 * The cap is at most this share of the fixed ladder's rate: no higher than what the fixed ABR encode actually spends
 * on hard content (it spends its target or, on hard edges, 0.6–0.8× of it), since a capped CRF encode spends its cap
 * in full there. At 0.8× (VBV as the fixed ladder's) the bench's hard clips lost ≤ 0.003 SSIM per rung on high
 * motion and grain and the hardest (animation) stayed better than the fixed ladder on every rung; at 1.15× (and
 * 1.5× before) the hard clips took 1.08–1.64× the fixed bytes, the corpus 0.98–1.11×.
 */
export const FIXED_MARGIN = 0.8;
/** ... and the source's own video bitrate by this factor (re-encoding cannot add detail the source lacks). */
export const SOURCE_MARGIN = 1.25;
/** VBV buffer as a multiple of the cap, as the fixed ladder's (1.5× its rate): room for keyframes, little overshoot. */
export const BUFSIZE_FACTOR = 1.5;
/** The cap is the predicted CRF rate times this, so it trims peaks rather than setting the rate. */
const HEADROOM = 1.3;
/** Lowest cap, as a share of the fixed rate: a near-static probe must not starve the first scene change. */
const FLOOR_SHARE = 0.08;
/** A rung is kept only when its cap is at least this factor above the rung kept below it. */
export const MIN_STEP = 1.4;
/** Rate grows with pixels by this exponent at equal quality (bigger pictures compress better per pixel). */
const PIXEL_EXPONENT = 0.75;

/** One probe encode: a short window of the source at the probe size, constant quality. */
export interface ProbeWindow {
  startSeconds: number;
  seconds: number;
  bytes: number;
  /** bits per pixel of the probe encode, its key frame and other frames weighed as in the ladder's GOP */
  bitsPerPixel: number;
  /** x264's mean key-frame and other-frame sizes in the window */
  keyFrameBytes?: number;
  otherFrameBytes?: number;
}

export interface ComplexityProbe {
  width: number;
  height: number;
  frameRate: number;
  crf: number;
  preset: string;
  windows: ProbeWindow[];
}

export type CapLimit = 'complexity' | 'fixed-margin' | 'source-margin' | 'floor' | 'no-probe';

export interface QualityAttempt {
  crf: number;
  capKbps: number;
  /** x264's luma SSIM over every frame against the source at the rung's size (else mean over the sampled windows) */
  ssim?: number;
  psnr?: number;
  /** bits per second of the encoded rung (all segments) */
  encodedKbps?: number;
}

export interface RungDecision {
  name: RungName;
  width: number;
  height: number;
  crf: number;
  capKbps: number;
  bufsizeKbps: number;
  /** the fixed ladder's rate for this rung */
  fixedKbps: number;
  /** what the probe predicts this rung needs at the CRF */
  predictedKbps: number;
  /** which bound set the cap, in words with the numbers */
  limitedBy: CapLimit;
  why: string;
  /** every encode of this rung, first one first */
  attempts: QualityAttempt[];
  /** index in attempts of the published encode: the last one that raised SSIM enough to be worth its bits */
  publishedAttempt: number;
}

export interface DroppedRung {
  name: RungName;
  width: number;
  height: number;
  capKbps: number;
  why: string;
}

export interface LadderDecision {
  mode: 'per-title';
  probe: ComplexityProbe;
  /** the hardest window's bits per pixel: what the caps are derived from */
  complexityBitsPerPixel: number;
  sourceVideoKbps?: number;
  margins: { fixed: number; source: number; minStep: number; headroom: number };
  rungs: RungDecision[];
  dropped: DroppedRung[];
  /** windows the validate stage measures SSIM/PSNR on (the transcode's own figures are x264's, every frame) */
  qualityWindows: { startSeconds: number; seconds: number }[];
}

/**
 * Turns the fixed ladder (sizes and rates from planLadder) and the probe into the per-title ladder. Never adds a
 * size (so never upscales) and never lets a cap exceed fixed × FIXED_MARGIN or source × SOURCE_MARGIN.
 * Easy content gets what the probe predicts (far below the fixed rate); hard content gets FIXED_MARGIN × fixed.
 */
export function decidePerTitle(
  fixed: readonly Rung[],
  probe: ComplexityProbe,
  sourceVideoKbps: number | undefined,
): Omit<LadderDecision, 'qualityWindows'> {
  const measured = probe.windows.filter((w) => w.bytes > 0 && w.seconds > 0);
  const complexity = measured.length ? Math.max(...measured.map((w) => w.bitsPerPixel)) : 0;
  const probePixels = probe.width * probe.height;
  const fps = probe.frameRate > 0 ? probe.frameRate : 30;

  const planned = fixed.map((rung): RungDecision => {
    const pixels = rung.width * rung.height;
    const predictedKbps = Math.round(
      (complexity * probePixels * fps * (pixels / probePixels) ** PIXEL_EXPONENT) / 1000,
    );
    const bounds: [CapLimit, number, string][] = [
      [
        'fixed-margin',
        rung.videoBitrateKbps * FIXED_MARGIN,
        `${FIXED_MARGIN}× the fixed ${rung.videoBitrateKbps} kbps`,
      ],
    ];
    if (sourceVideoKbps && sourceVideoKbps > 0)
      bounds.push([
        'source-margin',
        sourceVideoKbps * SOURCE_MARGIN,
        `${SOURCE_MARGIN}× the source's ${sourceVideoKbps} kbps`,
      ]);
    let limitedBy: CapLimit;
    let cap: number;
    let why: string;
    if (complexity <= 0) {
      [limitedBy, cap, why] = [
        'no-probe',
        rung.videoBitrateKbps * FIXED_MARGIN,
        `the probe encodes measured nothing: taken as hard content, ${FIXED_MARGIN}× the fixed rate`,
      ];
    } else {
      cap = predictedKbps * HEADROOM;
      limitedBy = 'complexity';
      why = `predicted ${predictedKbps} kbps at CRF ${LADDER_CRF} × ${HEADROOM} headroom`;
      const floor = rung.videoBitrateKbps * FLOOR_SHARE;
      if (cap < floor)
        [limitedBy, cap, why] = ['floor', floor, `${why}, raised to the floor ${FLOOR_SHARE}× fixed`];
    }
    for (const [limit, value, text] of bounds) {
      if (cap > value) [limitedBy, cap, why] = [limit, value, `${why}, capped at ${text}`];
    }
    const capKbps = Math.max(1, Math.round(cap));
    return {
      name: rung.name,
      width: rung.width,
      height: rung.height,
      crf: LADDER_CRF,
      capKbps,
      bufsizeKbps: Math.round(capKbps * BUFSIZE_FACTOR),
      fixedKbps: rung.videoBitrateKbps,
      predictedKbps,
      limitedBy,
      why,
      attempts: [],
      publishedAttempt: 0,
    };
  });

  // Walk up from the lowest rung; a rung whose cap is not MIN_STEP above the last kept one adds too little. The top
  // rung (the full picture) always stays: then the kept rung just below it goes instead, unless it is the lowest.
  const kept: RungDecision[] = [];
  const dropped: DroppedRung[] = [];
  const drop = (r: RungDecision, below: RungDecision) =>
    dropped.push({
      name: r.name,
      width: r.width,
      height: r.height,
      capKbps: r.capKbps,
      why: `cap ${r.capKbps} kbps is less than ${MIN_STEP}× the ${below.name} rung's ${below.capKbps} kbps`,
    });
  planned.forEach((rung, i) => {
    const below = kept[kept.length - 1];
    const top = i === planned.length - 1;
    if (!below || rung.capKbps >= below.capKbps * MIN_STEP) kept.push(rung);
    else if (!top) drop(rung, below);
    else {
      if (kept.length > 1) {
        kept.pop();
        drop(below, kept[kept.length - 1]!);
      }
      kept.push(rung);
    }
  });

  return {
    mode: 'per-title',
    probe,
    complexityBitsPerPixel: round(complexity, 5),
    ...(sourceVideoKbps ? { sourceVideoKbps } : {}),
    margins: { fixed: FIXED_MARGIN, source: SOURCE_MARGIN, minStep: MIN_STEP, headroom: HEADROOM },
    rungs: kept,
    dropped,
  };
}

/** The decision as the encoder's rungs (capped CRF). */
export function decidedRungs(fixed: readonly Rung[], decision: Pick<LadderDecision, 'rungs'>): Rung[] {
  return decision.rungs.map((d) => {
    const base = fixed.find((r) => r.name === d.name)!;
    return {
      ...base,
      crf: d.crf,
      videoBitrateKbps: d.capKbps,
      maxrateKbps: d.capKbps,
      bufsizeKbps: d.bufsizeKbps,
    };
  });
}
