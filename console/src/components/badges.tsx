import type { AssetStatus } from '../api';

/** Status as text and colour (colour is never the only cue: the word is always there). */
export function StatusBadge({
  status,
  stage,
}: {
  status: AssetStatus;
  stage?: { name: string; percent: number | null } | null;
}) {
  return (
    <span class={`badge status-${status}`} data-status={status}>
      {status}
      {stage && status === 'processing'
        ? ` · ${stage.name}${stage.percent !== null ? ` ${Math.round(stage.percent)}%` : ''}`
        : ''}
    </span>
  );
}

export const VisibilityBadge = ({ visibility }: { visibility: string }) => (
  <span class="badge visibility">{visibility}</span>
);
