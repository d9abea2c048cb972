import type { components } from '../../../client/generated/openapi';

type LadderDecision = components['schemas']['LadderDecision'];
type Rung = LadderDecision['rungs'][number];

const kbps = (n: number | undefined) => (n === undefined ? '—' : `${n.toLocaleString('en')} kbps`);
const fixed = (n: number | undefined, digits: number) => (n === undefined ? '—' : n.toFixed(digits));

/** The encode that was published: a re-encode that bought no quality is undone, so not always the last. */
const published = (rung: Rung) => rung.attempts[rung.publishedAttempt] ?? rung.attempts.at(-1);

/**
 * Why each HLS rung of a video exists and at what rate (the per-title decision kept in `media.ladder`): what the
 * complexity probe measured, each rung's cap and the bound that set it beside the fixed ladder's rate, what the
 * encode spent and the quality it reached, and the rungs left out.
 */
export function LadderPanel({ ladder }: { ladder: LadderDecision }) {
  const { probe } = ladder;
  return (
    <section aria-labelledby="ladder-title" class="ladder">
      <h2 id="ladder-title">Encoding ladder</h2>
      <p class="ladder-summary">
        Per-title: complexity <strong>{ladder.complexityBitsPerPixel.toFixed(3)} bits/pixel</strong> from{' '}
        {probe.windows.length} probe window{probe.windows.length === 1 ? '' : 's'} at {probe.width}×
        {probe.height} (CRF {probe.crf}, {probe.preset})
        {ladder.sourceVideoKbps !== undefined && <> · source video {kbps(ladder.sourceVideoKbps)}</>}
      </p>
      <table>
        <caption>
          Each rung is capped CRF: the cap is the lowest of what the probe predicts, {ladder.margins.fixed}×
          the fixed ladder and {ladder.margins.source}× the source.
        </caption>
        <thead>
          <tr>
            <th scope="col">Rung</th>
            <th scope="col">Cap</th>
            <th scope="col">Fixed</th>
            <th scope="col">Encoded</th>
            <th scope="col">SSIM</th>
            <th scope="col">PSNR</th>
            <th scope="col">Set by</th>
          </tr>
        </thead>
        <tbody>
          {ladder.rungs.map((rung) => {
            const encode = published(rung);
            return (
              <tr key={rung.name} data-rung={rung.name} title={rung.why}>
                <th scope="row">
                  {rung.name} <span class="reason">{`${rung.width}×${rung.height}`}</span>
                </th>
                <td>{kbps(encode?.capKbps ?? rung.capKbps)}</td>
                <td>{kbps(rung.fixedKbps)}</td>
                <td>{kbps(encode?.encodedKbps)}</td>
                <td>{fixed(encode?.ssim, 4)}</td>
                <td>{encode?.psnr === undefined ? '—' : `${encode.psnr.toFixed(1)} dB`}</td>
                <td>
                  {rung.limitedBy}
                  {rung.attempts.length > 1 && (
                    <span class="reason">
                      {' '}
                      · {rung.attempts.length} encodes, #{rung.publishedAttempt + 1} kept
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {ladder.dropped.length > 0 && (
        <ul class="dropped">
          {ladder.dropped.map((d) => (
            <li key={d.name} data-dropped={d.name}>
              <strong>{d.name}</strong> left out: {d.why}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
